#!/usr/bin/env bash
# tests/multihost/topology.sh up DIR | down DIR — mailproof on several
# hosts, built on one machine from network namespaces (as root).
#
#   mp-ID-sw   the switch: a bridge, 10.231.0.1; the SMTP catcher (:2525),
#              the webhook receiver (:8090), and the tests' client
#   mp-ID-db   the database host, 10.231.0.10: PgBouncer (:6432, transaction
#              pooling) in front of the primary
#   mp-ID-pg1  PostgreSQL primary, 10.231.0.11:5432
#   mp-ID-pg2  PostgreSQL standby, 10.231.0.12:5432 (streaming, synchronous)
#   mp-ID-a    app host A, 10.231.0.21: lighttpd :8080, mailproof-fcgi
#              --listen (prefork), mailproof-notifier
#   mp-ID-b    app host B, 10.231.0.22: the same
#
# ID is a short random run id, so runs side by side (or the leftovers of
# one that died) do not clash; no interface or address is added outside
# the namespaces, so the 10.231.0.0/24 of one run is invisible to another.
# `up` records what it made in DIR/topology.env and every process's pid
# under DIR/*/run/; `down` stops those, then anything else still inside a
# namespace of the run, removes the namespaces and the PostgreSQL data,
# and keeps the logs in DIR/*/log/. Running `down` twice is safe.
#
# BUILD (default: build/ of the checkout) holds the binaries. LISTEN_DIRECT=0
# leaves database_listen_url out, to see the notifiers LISTEN through
# PgBouncer (and hear nothing).
set -euo pipefail

# dev.sh's helpers: pg_bindir, as_pg, pid_alive, stop_pid (and $top, $PY)
. "$(dirname "${BASH_SOURCE[0]}")/../../dev.sh"
BUILD=${BUILD:-$top/build}
NET=10.231.0
PGB_PORT=6432
HTTP_PORT=8080
SMTP_PORT=2525
HOOKS_PORT=8090

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'topology.sh: %s\n' "$*" >&2; exit 1; }

in_ns() { local ns=$1; shift; ip netns exec "mp-$ID-$ns" "$@"; }

wait_for() {  # wait_for WHAT CMD...: up to 30 s
  local what=$1; shift
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up (logs in $DIR/*/log/)"
}

# start_bg NS NAME CMD...: CMD in namespace NS, in the background; its
# output in DIR/NS/log/NAME.log, its pid in DIR/NS/run/NAME.pid.
start_bg() {
  local ns=$1 name=$2; shift 2
  # not through in_ns: a function would run in a subshell, whose pid is not CMD's
  ip netns exec "mp-$ID-$ns" "$@" >>"$DIR/$ns/log/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$ns/run/$name.pid"
}

# Waits until `psql` in the switch namespace gets an answer from HOST:PORT.
pg_ready() { in_ns sw "$(pg_bindir)/pg_isready" -q -h "$1" -p "$2" -t 1; }
port_open() {
  in_ns sw $PY -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)" "$1" "$2"
}

# ---------------------------------------------------------------- network
net_up() {
  local ns host ip
  ip netns add "mp-$ID-sw"
  in_ns sw ip link set lo up
  in_ns sw ip link add br0 type bridge
  in_ns sw ip addr add "$NET.1/24" dev br0
  in_ns sw ip link set br0 up
  for host in db:10 pg1:11 pg2:12 a:21 b:22; do
    ns=${host%%:*} ip=$NET.${host#*:}
    ip netns add "mp-$ID-$ns"
    in_ns "$ns" ip link set lo up
    # both ends are made inside the namespaces: nothing appears outside them
    ip link add eth0 netns "mp-$ID-$ns" type veth peer name "v-$ns" netns "mp-$ID-sw"
    in_ns sw ip link set "v-$ns" master br0 up
    in_ns "$ns" ip addr add "$ip/24" dev eth0
    in_ns "$ns" ip link set eth0 up
  done
}

# ---------------------------------------------------------------- PostgreSQL
pg_conf() {  # pg_conf DATA IP: durable settings, streaming replication
  cat >>"$1/postgresql.conf" <<EOF
listen_addresses = '$2'
port = 5432
unix_socket_directories = ''	# TCP only: no socket to copy to the standby
max_connections = 100
shared_buffers = 64MB
# durable: a commit the client was told about is on disk, and on the standby
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
wal_log_hints = on
hot_standby = on
wal_compression = lz4
EOF
}

pg1_up() {
  local bin d=$PGROOT/pg1; bin=$(pg_bindir)
  mkdir -p "$d"; chown postgres: "$d"; chmod 700 "$d"
  as_pg "$bin/initdb" -D "$d" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --data-checksums >/dev/null
  pg_conf "$d" "$NET.11"
  cat >>"$d/pg_hba.conf" <<EOF
host all all $NET.0/24 trust
host replication all $NET.0/24 trust
EOF
  touch "$DIR/db/log/pg1.log"; chown postgres: "$DIR/db/log/pg1.log"
  in_ns pg1 runuser -u postgres -- "$bin/pg_ctl" -D "$d" -l "$DIR/db/log/pg1.log" -w -t 60 \
    start >/dev/null
  # the postmaster's pid file is PostgreSQL's own; point at it
  ln -sf "$d/postmaster.pid" "$DIR/db/run/pg1.pidfile"
  in_ns pg1 "$bin/psql" -h "$NET.11" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 <<'EOF' >/dev/null
CREATE ROLE replicator LOGIN REPLICATION;
CREATE ROLE mailproof LOGIN;
-- behind PgBouncer the session's SETs would leak between clients: the role
-- carries them (mailproof's database_statement_timeout_ms = 0)
ALTER ROLE mailproof SET statement_timeout = '5s';
ALTER ROLE mailproof SET lock_timeout = '3s';
ALTER ROLE mailproof SET idle_in_transaction_session_timeout = '10s';
ALTER ROLE mailproof SET search_path = public;
CREATE DATABASE mailproof OWNER mailproof;
EOF
}

pg2_up() {
  local bin d=$PGROOT/pg2; bin=$(pg_bindir)
  mkdir -p "$d"; chown postgres: "$d"; chmod 700 "$d"
  # -R writes primary_conninfo and standby.signal; -C -S a slot, so the
  # primary keeps the WAL the standby has not had yet
  in_ns pg2 runuser -u postgres -- "$bin/pg_basebackup" -D "$d" -R -X stream -c fast -C -S pg2 \
    -d "host=$NET.11 port=5432 user=replicator application_name=pg2" >/dev/null
  # the copy carries pg1's settings: its own address, and its own name
  sed -i "s/^listen_addresses = .*/listen_addresses = '$NET.12'/" "$d/postgresql.conf"
  grep -q "application_name=pg2" "$d/postgresql.auto.conf" ||
    echo "primary_conninfo = 'host=$NET.11 port=5432 user=replicator application_name=pg2'" \
      >>"$d/postgresql.auto.conf"
  touch "$DIR/db/log/pg2.log"; chown postgres: "$DIR/db/log/pg2.log"
  in_ns pg2 runuser -u postgres -- "$bin/pg_ctl" -D "$d" -l "$DIR/db/log/pg2.log" -w -t 60 \
    start >/dev/null
  ln -sf "$d/postmaster.pid" "$DIR/db/run/pg2.pidfile"
  # from now on a commit on pg1 waits until pg2 has flushed it (set only
  # now: with no standby yet, every commit would wait for good)
  in_ns pg1 "$bin/psql" -h "$NET.11" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
    -c "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (pg2)'" \
    -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 150); do
    [ "$(in_ns pg1 "$bin/psql" -h "$NET.11" -U postgres -d postgres -qAt -c \
      "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pg2'")" = sync ] &&
      return 0
    sleep 0.2
  done
  die "the standby is not streaming synchronously (logs in $DIR/db/log/)"
}

pg_down() {  # pg_down NAME
  local bin d=$PGROOT/$1 pid; bin=$(pg_bindir)
  [ -f "$d/PG_VERSION" ] || return 0
  if [ -f "$d/postmaster.pid" ]; then
    pid=$(head -n 1 "$d/postmaster.pid")
    runuser -u postgres -- "$bin/pg_ctl" -D "$d" -m immediate -w -t 20 stop >/dev/null 2>&1 ||
      kill -KILL "$pid" 2>/dev/null || true
  fi
}

# ---------------------------------------------------------------- PgBouncer
pgb_up() {
  local d=$PGROOT/pgbouncer
  mkdir -p "$d"
  # trust, as the clusters' pg_hba; the users must still be listed
  printf '"mailproof" ""\n"postgres" ""\n' >"$d/userlist.txt"
  cat >"$d/pgbouncer.ini" <<EOF
[databases]
mailproof = host=$NET.11 port=5432 dbname=mailproof

[pgbouncer]
listen_addr = $NET.10
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $d/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = transaction
; fewer server connections than clients (2 hosts x (2 workers + notifier)):
; they are shared between transactions
default_pool_size = 4
reserve_pool_size = 0
max_client_conn = 200
; a dead server is found out quickly, and a client waits for one at most this
query_wait_timeout = 10
server_connect_timeout = 3
server_login_retry = 1
; mailproof sets nothing in the startup packet but application_name
ignore_startup_parameters = extra_float_digits
; logs go to stderr: DIR/db/log/pgbouncer.log
logfile =
pidfile = $d/pgbouncer.pid
EOF
  chown -R postgres: "$d"
  touch "$DIR/db/log/pgbouncer.log"; chown postgres: "$DIR/db/log/pgbouncer.log"
  # in the foreground, so that its pid is ours; it drops root itself (-u)
  start_bg db pgbouncer pgbouncer -u postgres "$d/pgbouncer.ini"
  wait_for "PgBouncer" pg_ready "$NET.10" "$PGB_PORT"
}

# ---------------------------------------------------------------- app hosts
app_conf() {  # app_conf HOST IP
  local h=$1 ip=$2
  cat >"$DIR/$h/mailproof.conf" <<EOF
# Written by tests/multihost/topology.sh for app host $h; see docs/scaling.md.
# Through PgBouncer (transaction pooling): no named prepared statements, no
# session SET (the role carries statement_timeout).
database_url = host=$NET.10 port=$PGB_PORT dbname=mailproof user=mailproof
database_prepared = false
database_statement_timeout_ms = 0
# The notifier LISTENs on a direct connection to whichever node is primary.
$([ "${LISTEN_DIRECT:-1}" = 1 ] || printf '# (LISTEN_DIRECT=0: through PgBouncer, which never delivers the notifications)\n# ')database_listen_url = host=$NET.11,$NET.12 port=5432 dbname=mailproof user=mailproof target_session_attrs=read-write
secret_key = $SECRET_KEY
public_base_url = http://$ip:$HTTP_PORT
smtp_host = $NET.1
smtp_port = $SMTP_PORT
smtp_starttls = no
mail_journal = $DIR/$h/mail-journal
mail_from = verify@mailproof.test
mx_check = false
webhook_allow_private = true
webhook_retry_base_ms = 1000
log_level = info
EOF
}

app_up() {  # app_up HOST IP
  local h=$1 ip=$2
  mkdir -p "$DIR/$h/www"
  echo ok >"$DIR/$h/www/done.shtml"
  sed -e "s|@VAR@|$DIR/$h|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
      -e "s|^server.bind .*|server.bind          = \"$ip\"|" \
      "$top/lighttpd/dev.conf.in" >"$DIR/$h/lighttpd.conf"
  start_bg "$h" fcgi env MAILPROOF_CONFIG="$DIR/$h/mailproof.conf" \
    "$BUILD/mailproof-fcgi" --listen "unix:$DIR/$h/run/fcgi.sock" --workers "${WORKERS:-2}"
  start_bg "$h" notifier env MAILPROOF_CONFIG="$DIR/$h/mailproof.conf" "$BUILD/mailproof-notifier"
  wait_for "mailproof-fcgi on $h" test -S "$DIR/$h/run/fcgi.sock"
  start_bg "$h" lighttpd lighttpd -D -f "$DIR/$h/lighttpd.conf"
  wait_for "lighttpd on $h" in_ns sw curl -fsS "http://$ip:$HTTP_PORT/healthz"
}

# Debian's PgBouncer (1.18 on Debian 12), without its system service: a
# policy-rc.d keeps the package from starting it, as dev.sh does.
install_pgbouncer() {
  command -v pgbouncer >/dev/null && return 0
  say "installing pgbouncer"
  local prc=/usr/sbin/policy-rc.d had_prc=1
  [ -e $prc ] || { had_prc=0; printf '#!/bin/sh\nexit 101\n' >$prc; chmod +x $prc; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer \
    >/dev/null || { [ $had_prc = 1 ] || rm -f $prc; die "could not install pgbouncer"; }
  [ $had_prc = 1 ] || rm -f $prc
}

# ---------------------------------------------------------------- commands
cmd_up() {
  [ "$(id -u)" = 0 ] || die "needs root (ip netns)"
  [ ! -f "$DIR/topology.env" ] || die "$DIR already has a topology (down it first)"
  install_pgbouncer
  [ -x "$BUILD/mailproof-fcgi" ] || die "no $BUILD/mailproof-fcgi (build first)"
  mkdir -p "$DIR"; chmod 755 "$DIR"
  runuser -u postgres -- test -x "$DIR" || die "$DIR must be reachable by the postgres user"
  ID=$(od -An -tx1 -N3 /dev/urandom | tr -d ' \n')
  PGROOT=/var/tmp/mp-$ID
  SECRET_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  local h
  for h in sw db a b; do mkdir -p "$DIR/$h"/{log,run}; done
  mkdir -p "$DIR/sw/mail" "$PGROOT"
  chmod 755 "$DIR"/*/ "$DIR"/*/log
  cat >"$DIR/topology.env" <<EOF
ID=$ID
PGROOT=$PGROOT
NS_PREFIX=mp-$ID-
NET=$NET
SW_IP=$NET.1
PGB=$NET.10:$PGB_PORT
PG1=$NET.11:5432
PG2=$NET.12:5432
A=http://$NET.21:$HTTP_PORT
B=http://$NET.22:$HTTP_PORT
SMTP_PORT=$SMTP_PORT
HOOKS=http://$NET.1:$HOOKS_PORT/hooks
HOOKS_PORT=$HOOKS_PORT
BUILD=$BUILD
EOF
  say "run $ID: namespaces mp-$ID-{sw,db,pg1,pg2,a,b} on $NET.0/24"
  net_up
  start_bg sw smtp $PY "$top/tests/tools/smtp_catcher.py" --host "$NET.1" --port "$SMTP_PORT" \
    --dir "$DIR/sw/mail"
  start_bg sw hooks $PY "$top/tests/tools/webhook_catcher.py" --host "$NET.1" \
    --port "$HOOKS_PORT" --file "$DIR/sw/webhooks.jsonl"
  say "PostgreSQL primary and synchronous standby"
  pg1_up
  app_conf a "$NET.21"
  app_conf b "$NET.22"
  MAILPROOF_CONFIG=$DIR/a/mailproof.conf \
    MAILPROOF_DATABASE_URL="host=$NET.11 port=5432 dbname=mailproof user=mailproof" \
    in_ns a "$BUILD/mailproofctl" migrate >/dev/null
  pg2_up
  say "PgBouncer"
  pgb_up
  wait_for "SMTP catcher" port_open "$NET.1" "$SMTP_PORT"
  wait_for "webhook receiver" port_open "$NET.1" "$HOOKS_PORT"
  say "app hosts a and b"
  app_up a "$NET.21"
  app_up b "$NET.22"
  say "up: $DIR/topology.env"
}

cmd_down() {
  [ -f "$DIR/topology.env" ] || { say "nothing to stop in $DIR"; return 0; }
  # shellcheck disable=SC1091
  . "$DIR/topology.env"
  local h f ns pids
  for h in a b; do
    for f in lighttpd notifier fcgi; do stop_pid "$DIR/$h/run/$f.pid"; done
  done
  stop_pid "$DIR/db/run/pgbouncer.pid"
  pg_down pg2
  pg_down pg1
  rm -f "$DIR/db/run/"pg?.pidfile
  stop_pid "$DIR/sw/run/hooks.pid"
  stop_pid "$DIR/sw/run/smtp.pid"
  # anything else still inside a namespace of this run (a worker whose
  # master died, a backend of a crashed postmaster) is ours too
  for ns in $(ip netns list | awk '{print $1}' | grep "^mp-$ID-" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [ -n "$pids" ]; then
      say "killing what is left in $ns: $(tr '\n' ' ' <<<"$pids")"
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      sleep 0.2
    fi
    ip netns del "$ns"
  done
  case "$PGROOT" in /var/tmp/mp-*) rm -rf "$PGROOT" ;; esac
  mv "$DIR/topology.env" "$DIR/topology.env.down"
  say "down: run $ID removed"
}

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

DIR=${2:-}
[ -n "$DIR" ] || { usage; exit 2; }
DIR=$(realpath -m "$DIR")
case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  *) usage; exit 2 ;;
esac
