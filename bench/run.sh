#!/usr/bin/env bash
# bench/run.sh: mailproof against its peers, all in one run on this machine,
# with PostgreSQL durable (fsync and synchronous_commit on).
#
#   bench/run.sh [--seconds N] [--rounds N] [--workers N] [--large] [--keep]
#                [--only CASES] [--pg 'name = value']... [--not-durable]
#
# It installs what is missing (wrk, spawn-fcgi, PHP-FPM with pdo_pgsql),
# builds, and starts a private stack in a throw-away directory: a durable
# PostgreSQL cluster, mailproof-fcgi (prefork, --workers, mail_delivery =
# queue, no notifier), the libfcgi hello responder (spawn-fcgi, the same
# worker count), PHP-FPM with the initiate script, and one lighttpd in front
# of all three.  Then bench/measure.py runs the cases and prints the table
# (also written to bench/results/), ending with one "ratio NAME VALUE" line
# per target.  The 16-connection cases, which the targets use, run --rounds
# times (2), interleaved, and each counts with its best.  --large first
# fills 10 M verifications and an hour of rate counters for 100k addresses
# (bench/large.sql).  --keep leaves the stack
# running.  --pg adds a PostgreSQL setting (for docs/postgresql.md, which
# measures each); one that is not durable (fsync or synchronous_commit off)
# needs --not-durable too, and its table says so.  See bench/README.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../dev.sh
. "$top/dev.sh"

secs=12 rounds=2 workers=4 large=0 keep=0 only= pg=() not_durable=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pg) pg+=("$2"); shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --large) large=1; shift ;;
    --keep) keep=1; shift ;;
    --only) only=$2; shift 2 ;;
    --not-durable) not_durable=1; shift ;;
    *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

install_packages
install_packages wrk spawn-fcgi php-fpm php-pgsql
build "$top/build" --enable-werror

var=$(mktemp -d /tmp/mailproof-bench.XXXXXX)
chmod 755 "$var"
export MPDEV_DURABLE=1
init_var "$var" "$top/build"
echo "mail_delivery = queue" >>"$MAILPROOF_CONFIG"
# mailproof as its sample config has it: PostgreSQL on this host through
# its Unix socket, libpq's default (the peers keep the 127.0.0.1 their
# definitions give).
sed -i "s|^database_url = host=127.0.0.1 |database_url = host=$PGDATA |" "$MAILPROOF_CONFIG"

stop_all() {
  stop_pid "$VAR/run/lighttpd.pid"
  stop_pid "$VAR/run/php.pid"
  if [ -f "$VAR/run/hello.pids" ]; then
    xargs -r kill <"$VAR/run/hello.pids" 2>/dev/null || true
  fi
  svc_fcgi_stop
  svc_pg_stop
  case "$PGDATA" in /var/tmp/mailproof-pg-*) rm -rf "$PGDATA" ;; esac
  rm -rf "$VAR"
}
if [ "$keep" = 0 ]; then trap stop_all EXIT; fi

say "durable PostgreSQL in $VAR"
MPDEV_PG_CONF=$(printf '%s\n' "${pg[@]}") svc_pg_start
ctl migrate --sql-dir "$top/sql" >/dev/null
MAILPROOF_WORKERS=$workers svc_fcgi_start

say "peers: hello responder and PHP-FPM ($workers each)"
cc -O2 -Wall -o "$VAR/hello" "$top/bench/peers/hello.c" -lfcgi
spawn-fcgi -F "$workers" -s "$VAR/run/hello.sock" -P "$VAR/run/hello.pids" -- "$VAR/hello" \
  >/dev/null
sed "s/PGPORT/$PG_PORT/" "$top/bench/peers/initiate.php" >"$VAR/www/initiate.php"
sed -e "s|@VAR@|$VAR|g" -e "s|@WORKERS@|$workers|g" "$top/bench/php-fpm.conf.in" >"$VAR/php-fpm.conf"
[ "$(id -u)" != 0 ] || echo "user = root" >>"$VAR/php-fpm.conf"
fpm=$(ls /usr/sbin/php-fpm* | sort -V | tail -n 1)
start_bg php "$fpm" -R -F -y "$VAR/php-fpm.conf"
wait_for "PHP-FPM" test -S "$VAR/run/php.sock"

sed -e "s|@VAR@|$VAR|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" "$top/bench/lighttpd.conf.in" \
  >"$VAR/lighttpd.conf"
start_bg lighttpd lighttpd -D -f "$VAR/lighttpd.conf"
wait_for "lighttpd" curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz"

BENCH_VAR=$VAR BENCH_TOP=$top BENCH_SECONDS=$secs BENCH_ROUNDS=$rounds BENCH_WORKERS=$workers \
  BENCH_LARGE=$large BENCH_ONLY=$only BENCH_NOT_DURABLE=$not_durable \
  BENCH_PG="$(printf '%s\n' "${pg[@]}")" $PY "$top/bench/measure.py"
if [ "$keep" = 1 ]; then
  say "the stack keeps running in $VAR (MPDEV_VAR=$VAR ./dev.sh down stops most of it)"
fi
