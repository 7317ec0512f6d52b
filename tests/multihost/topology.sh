#!/usr/bin/env bash
# tests/multihost/topology.sh up DIR | down DIR | crash DIR NODE | start DIR NODE
# — mailproof on several hosts, built on one machine from network
# namespaces (as root); crash and start kill a PostgreSQL node (pg1, pg2)
# and bring it back.
#
#   mp-ID-sw   the switch: a bridge, 10.231.0.1; the SMTP catcher (:2525),
#              the webhook receiver (:8090), and the tests' client
#   mp-ID-db   the database host, 10.231.0.10: PgBouncer (:6432, transaction
#              pooling) in front of the primary, kept there by
#              contrib/pg_auto_failover/pgbouncer-follow-primary; the
#              pg_auto_failover monitor (:5431)
#   mp-ID-pg1  PostgreSQL under a pg_autoctl keeper, 10.231.0.11:5432: first
#              the primary
#   mp-ID-pg2  the same, 10.231.0.12:5433: first the synchronous standby
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

wait_for() {  # wait_for WHAT CMD...: up to WAIT_S (30) seconds
  local what=$1; shift
  for _ in $(seq $((${WAIT_S:-30} * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
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
# pg_auto_failover: a monitor on the database host, and a keeper on each
# PostgreSQL node that runs its postmaster and follows the monitor's
# orders (see docs/scaling.md for why this and not Patroni).  Each node's
# pg_autoctl runs as postgres with its own config and state under
# PGROOT/NODE/, through PGROOT/NODE/autoctl, which also enters the node's
# namespace: `PGROOT/pg1/autoctl show state` works from anywhere.
MONITOR_PORT=5431

pgaf_wrapper() {  # pgaf_wrapper NODE NS IP PORT
  local n=$1 ns=$2 ip=$3 port=$4 d=$PGROOT/$1
  mkdir -p "$d/config" "$d/share" "$d/run"
  cat >"$d/autoctl" <<EOF
#!/bin/sh
# pg_autoctl of node $n, in namespace mp-$ID-$ns, as postgres
exec ip netns exec mp-$ID-$ns setpriv --reuid=postgres --regid=postgres --init-groups \\
  env -i PATH=$(pg_bindir):/usr/bin:/bin HOME=$d LANG=C.UTF-8 \\
  XDG_CONFIG_HOME=$d/config XDG_DATA_HOME=$d/share XDG_RUNTIME_DIR=$d/run \\
  PGDATA=$d/data PGHOST=$ip PGPORT=$port pg_autoctl "\$@"
EOF
  chmod 755 "$d/autoctl"
  chown -R postgres: "$d"
}

pg_conf() {  # pg_conf DATA: durable settings; pg_autoctl adds its own
  cat >>"$1/postgresql.conf" <<EOF
# one socket directory for the nodes of this machine, which differ by port
# (pg_autoctl needs a socket; the standby's copy of this file names it too)
unix_socket_directories = '$PGROOT/sock'
max_connections = 100
shared_buffers = 64MB
# durable: a commit the client was told about is on disk, and on the
# standby (pg_auto_failover sets synchronous_standby_names)
fsync = on
synchronous_commit = on
full_page_writes = on
wal_compression = lz4
EOF
  cat >>"$1/pg_hba.conf" <<EOF
host all all $NET.0/24 trust
host replication all $NET.0/24 trust
EOF
}

pg_initdb() {  # pg_initdb NODE
  local d=$PGROOT/$1/data
  mkdir -p "$d"; chown postgres: "$d"; chmod 700 "$d"
  runuser -u postgres -- "$(pg_bindir)/initdb" -D "$d" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --data-checksums >/dev/null
  pg_conf "$d"
}

# What the monitor says of the nodes: "name reported/goal" lines.
pgaf_states() {
  in_ns sw "$(pg_bindir)/psql" -h "$NET.10" -p $MONITOR_PORT -U autoctl_node \
    -d pg_auto_failover -qAtX -F ' ' -c \
    "SELECT nodename, reportedstate || '/' || goalstate FROM pgautofailover.node ORDER BY nodename"
}
pgaf_settled() {  # pgaf_settled "pg1 primary/primary" "pg2 secondary/secondary"
  [ "$(pgaf_states 2>/dev/null)" = "$(printf '%s\n' "$@")" ]
}

monitor_up() {
  pgaf_wrapper monitor db "$NET.10" $MONITOR_PORT
  pg_initdb monitor
  "$PGROOT/monitor/autoctl" create monitor --pgport $MONITOR_PORT --hostname "$NET.10" \
    --no-ssl --skip-pg-hba >>"$DIR/db/log/monitor.log" 2>&1 ||
    die "pg_autoctl create monitor failed (log: $DIR/db/log/monitor.log)"
  start_bg db monitor "$PGROOT/monitor/autoctl" run
  wait_for "the pg_auto_failover monitor" pg_ready "$NET.10" $MONITOR_PORT
  wait_for "the pgautofailover extension" pgaf_states
  # Faster than the defaults (5 s checks, 20 s to call a node unhealthy,
  # 30 s for a primary to demote): on one switch, a node that misses two
  # 1-second checks is gone.  A keeper that loses the monitor and its
  # standby demotes itself after network_partition_timeout (below), which
  # is shorter than primary_demote_timeout: no two primaries.
  in_ns sw "$(pg_bindir)/psql" -h "$NET.10" -p $MONITOR_PORT -U postgres -d pg_auto_failover \
    -qAtX -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 5000;
SELECT pg_reload_conf();
EOF
}

monitor_uri() { echo "postgres://autoctl_node@$NET.10:$MONITOR_PORT/pg_auto_failover?sslmode=disable"; }

node_up() {  # node_up NODE IP PORT: register NODE with the monitor, and run it
  local n=$1 ip=$2 port=$3 a
  pgaf_wrapper "$n" "$n" "$ip" "$port"
  a=$PGROOT/$n/autoctl
  "$a" create postgres --pgport "$port" --pghost "$ip" --listen "$ip" --hostname "$ip" \
    --name "$n" --dbname mailproof --monitor "$(monitor_uri)" --no-ssl \
    --skip-pg-hba >>"$DIR/db/log/$n.log" 2>&1 ||
    die "pg_autoctl create postgres for $n failed (log: $DIR/db/log/$n.log)"
  "$a" config set timeout.network_partition_timeout 3 >/dev/null
  "$a" config set timeout.prepare_promotion_walreceiver 1 >/dev/null
  start_bg db "$n" "$a" run
}

pg_up() {
  monitor_up
  pg_initdb pg1
  node_up pg1 "$NET.11" 5432
  wait_for "pg1 as the single primary" pgaf_settled "pg1 single/single"
  wait_for "pg1 under its keeper" pg_ready "$NET.11" 5432
  in_ns pg1 "$(pg_bindir)/psql" -h "$NET.11" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 <<'EOF' >/dev/null
CREATE ROLE mailproof LOGIN;
-- behind PgBouncer the session's SETs would leak between clients: the role
-- carries them (mailproof's database_statement_timeout_ms = 0)
ALTER ROLE mailproof SET statement_timeout = '5s';
ALTER ROLE mailproof SET lock_timeout = '3s';
ALTER ROLE mailproof SET idle_in_transaction_session_timeout = '10s';
ALTER ROLE mailproof SET search_path = public;
ALTER DATABASE mailproof OWNER TO mailproof;
EOF
}

# pg_standby_up: pg_autoctl makes pg2 from pg1 with pg_basebackup
pg_standby_up() {
  node_up pg2 "$NET.12" 5433
  WAIT_S=120 wait_for "pg2 as a synchronous standby" \
    pgaf_settled "pg1 primary/primary" "pg2 secondary/secondary"
}

# pg_down NODE: its keeper stops its postmaster
pg_down() {
  local n=$1 d=$PGROOT/$1/data pid
  stop_pid "$DIR/db/run/$n.pid"
  [ -f "$d/postmaster.pid" ] || return 0
  pid=$(head -n 1 "$d/postmaster.pid")
  runuser -u postgres -- "$(pg_bindir)/pg_ctl" -D "$d" -m immediate -w -t 20 stop >/dev/null 2>&1 ||
    kill -KILL "$pid" 2>/dev/null || true
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
; a dead server is found out quickly, and a client waits for one at most
; this long: during a failover, mailproof answers 503 within seconds (and
; under overload too, rather than queueing without end)
query_wait_timeout = 2
server_connect_timeout = 2
server_login_retry = 1
tcp_user_timeout = 3000
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
  # and keeps it on the primary that the monitor names
  start_bg db follow setpriv --reuid=postgres --regid=postgres --init-groups \
    env PATH="$(pg_bindir):/usr/bin:/bin" \
    "$top/contrib/pg_auto_failover/pgbouncer-follow-primary" "$(monitor_uri)" \
    "$d/pgbouncer.ini" mailproof "host=$NET.10 port=$PGB_PORT dbname=pgbouncer user=postgres"
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
$([ "${LISTEN_DIRECT:-1}" = 1 ] || printf '# (LISTEN_DIRECT=0: through PgBouncer, which never delivers the notifications)\n# ')database_listen_url = host=$NET.11,$NET.12 port=5432,5433 dbname=mailproof user=mailproof target_session_attrs=read-write
secret_key = $SECRET_KEY
public_base_url = http://$ip:$HTTP_PORT
smtp_host = $NET.1
smtp_port = $SMTP_PORT
smtp_starttls = no
mail_journal = $DIR/$h/mail-journal
mail_from = verify@mailproof.test
mx_check = false
# A start whose worker lost the database after its commit (a failover) has
# its events held until a notifier settles its mail from the journal:
# sooner than the defaults (60 s, and FAILED after twice that), so that
# the failover test sees them delivered within its wait.
smtp_timeout_ms = 5000
sync_mail_settle_seconds = 15
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

# Debian's PgBouncer (1.18 on Debian 12) and pg_auto_failover (2.0), without
# PgBouncer's system service: a policy-rc.d keeps the package from starting
# it, as dev.sh does.
CLUSTER_PACKAGES="pgbouncer pg-auto-failover-cli postgresql-15-auto-failover"
install_cluster_packages() {
  local missing="" p prc=/usr/sbin/policy-rc.d had_prc=1
  for p in $CLUSTER_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
  done
  [ -n "$missing" ] || return 0
  say "installing$missing"
  [ -e $prc ] || { had_prc=0; printf '#!/bin/sh\nexit 101\n' >$prc; chmod +x $prc; }
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing \
    >/dev/null || { [ $had_prc = 1 ] || rm -f $prc; die "could not install$missing"; }
  [ $had_prc = 1 ] || rm -f $prc
}

# ---------------------------------------------------------------- commands
cmd_up() {
  [ "$(id -u)" = 0 ] || die "needs root (ip netns)"
  [ ! -f "$DIR/topology.env" ] || die "$DIR already has a topology (down it first)"
  install_cluster_packages
  [ -x "$BUILD/mailproof-fcgi" ] || die "no $BUILD/mailproof-fcgi (build first)"
  mkdir -p "$DIR"; chmod 755 "$DIR"
  runuser -u postgres -- test -x "$DIR" || die "$DIR must be reachable by the postgres user"
  ID=$(od -An -tx1 -N3 /dev/urandom | tr -d ' \n')
  PGROOT=/var/tmp/mp-$ID
  SECRET_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  local h
  for h in sw db a b; do mkdir -p "$DIR/$h"/{log,run}; done
  mkdir -p "$DIR/sw/mail" "$PGROOT/sock"
  chown postgres: "$PGROOT/sock"
  chmod 755 "$DIR"/*/ "$DIR"/*/log
  cat >"$DIR/topology.env" <<EOF
ID=$ID
PGROOT=$PGROOT
NS_PREFIX=mp-$ID-
NET=$NET
SW_IP=$NET.1
PGB=$NET.10:$PGB_PORT
PG1=$NET.11:5432
PG2=$NET.12:5433
MONITOR=$NET.10:$MONITOR_PORT
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
  say "pg_auto_failover: the monitor, and pg1"
  pg_up
  app_conf a "$NET.21"
  app_conf b "$NET.22"
  MAILPROOF_CONFIG=$DIR/a/mailproof.conf \
    MAILPROOF_DATABASE_URL="host=$NET.11 port=5432 dbname=mailproof user=mailproof" \
    in_ns a "$BUILD/mailproofctl" migrate >/dev/null
  say "pg_auto_failover: pg2, a synchronous standby"
  pg_standby_up
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
  stop_pid "$DIR/db/run/follow.pid"
  stop_pid "$DIR/db/run/pgbouncer.pid"
  pg_down pg2
  pg_down pg1
  pg_down monitor
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

# crash DIR NODE: the machine of a PostgreSQL node dies: every process in
# its namespace (the pg_autoctl keeper, the postmaster, its backends) gets
# SIGKILL at once.  Its data directory stays, as a disk would.
cmd_crash() {
  # shellcheck disable=SC1091
  . "$DIR/topology.env"
  local pids
  pids=$(ip netns pids "mp-$ID-$NODE")
  [ -n "$pids" ] || die "nothing runs on $NODE"
  # shellcheck disable=SC2086
  kill -KILL $pids
  rm -f "$DIR/db/run/$NODE.pid"
  say "$NODE crashed: killed $(wc -w <<<"$pids") processes"
}

# start DIR NODE: the machine is back: its keeper starts again, and the
# monitor tells it what to be (a crashed primary rejoins as a standby,
# with pg_rewind).
cmd_start() {
  # shellcheck disable=SC1091
  . "$DIR/topology.env"
  [ -z "$(ip netns pids "mp-$ID-$NODE")" ] || die "$NODE is running"
  start_bg db "$NODE" "$PGROOT/$NODE/autoctl" run
  say "$NODE started: its keeper is pid $(cat "$DIR/db/run/$NODE.pid")"
}

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

DIR=${2:-}
[ -n "$DIR" ] || { usage; exit 2; }
DIR=$(realpath -m "$DIR")
NODE=${3:-}
case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  crash|start)
    case "$NODE" in pg1|pg2) ;; *) usage; exit 2 ;; esac
    [ -f "$DIR/topology.env" ] || die "no topology in $DIR"
    "cmd_$1" ;;
  *) usage; exit 2 ;;
esac
