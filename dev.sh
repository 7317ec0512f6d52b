#!/usr/bin/env bash
# dev.sh — everything a developer needs on a fresh Debian 12 machine.
#
#   ./dev.sh up      install what is missing, build, start PostgreSQL, an SMTP
#                    catcher, a webhook catcher, mailproof-fcgi, mailproof-notifier
#                    and lighttpd on :8080, make a demo key; the PHP signup
#                    example (examples/php-signup) under Apache on :8081
#   ./dev.sh down    stop what `up` started
#   ./dev.sh test    the same set-up in a throw-away directory on free ports,
#                    then every test (unit and integration, plain and ASan builds)
#   ./dev.sh status  what is running
#   ./dev.sh test-package  build the Debian package, lint it, install it on
#                    this machine, run the suite against it, purge it
#                    (tests/package/test-deb.sh; root; CI runs it after test)
#
# State lives in var/ (or, for `test`, a temporary directory): the PostgreSQL
# cluster, mail caught by the SMTP catcher (var/mail/), logs (var/log/), pid
# files (var/run/) and dev.env, which records ports and paths for the
# internal `./dev.sh service NAME start|stop` used by the integration tests.
# The integration tests' harness starts and stops a throw-away stack of its
# own with the internal `./dev.sh stack up DIR BUILD_DIR` and
# `./dev.sh stack down DIR`.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3	# Debian's: the one that sees python3-aiosmtpd

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'dev.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- packages
PACKAGES=(gcc clang make autoconf automake libtool pkgconf check
  libfcgi-dev libpq-dev libjansson-dev libesmtp-dev libsodium-dev
  libcurl4-openssl-dev libssl-dev
  postgresql lighttpd apache2 libapache2-mod-fcgid python3 python3-aiosmtpd curl procps
  valgrind openssl
  libapache2-mod-php php-cli php-curl php-sqlite3
  postfix	# a private instance bounces for test_94_postfix_bounces (never the system's)
  iproute2)	# ip netns: tests/multihost, which .ci/run runs after the suite

# install_packages [PKG...]: the PACKAGES above, or the ones named.
install_packages() {
  local missing=() p
  [ $# -gt 0 ] || set -- "${PACKAGES[@]}"
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (run as root, or install them): ${missing[*]}"
  say "installing ${missing[*]}"
  # Keep the packages' own services (a system PostgreSQL, lighttpd on :80) from
  # starting: ours run privately under var/.
  local prc=/usr/sbin/policy-rc.d had_prc=1
  [ -e $prc ] || { had_prc=0; printf '#!/bin/sh\nexit 101\n' >$prc; chmod +x $prc; }
  apt-get update -qq
  # postfix would ask what kind of mail host this is: none (no main.cf)
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  [ $had_prc = 1 ] || rm -f $prc
}

# ---------------------------------------------------------------- build
# build DIR [configure flags...]
build() {
  local dir=$1; shift
  if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
     [ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
    say "autoreconf"
    (cd "$top" && autoreconf -fi >/dev/null 2>&1) || (cd "$top" && autoreconf -fi)
  fi
  mkdir -p "$dir"
  if [ ! -f "$dir/Makefile" ] || [ "$top/configure" -nt "$dir/Makefile" ]; then
    say "configure $* in ${dir#$top/}"
    (cd "$dir" && "$top/configure" -q "$@")
  fi
  say "make in ${dir#$top/}"
  make -s -C "$dir" -j"$(nproc)" >/dev/null
}

# ---------------------------------------------------------------- helpers
free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || die "PostgreSQL server binaries not found"
  echo "$d"
}

# Runs a command as the unprivileged owner of the cluster.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A zombie (exited, its parent gone, not yet reaped) counts as dead.
pid_alive() {
  local pid st
  [ -f "$1" ] && pid=$(cat "$1") && st=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  case ${st##*\) } in Z*) return 1 ;; esac
}

# stop_pid FILE: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid() {
  local f=$1 pid i
  pid_alive "$f" || { rm -f "$f"; return 0; }
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 100); do pid_alive "$f" || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

wait_for() {  # wait_for WHAT CMD...: up to 15 s
  local what=$1 i; shift
  for i in $(seq 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up (logs in $VAR/log/)"
}

# ---------------------------------------------------------------- state
# init_var DIR BUILD_DIR: records ports and paths in DIR/dev.env once.
init_var() {
  VAR=$1
  mkdir -p "$VAR"/{log,run,mail,www}
  if [ ! -f "$VAR/dev.env" ]; then
    local pgdata="$VAR/pg"
    # PostgreSQL refuses root: its data must be reachable by the postgres user.
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$VAR"; then
      pgdata=/var/tmp/mailproof-pg-$(echo "$VAR" | md5sum | cut -c1-12)
    fi
    {
      echo "BUILD=$2"
      echo "PGDATA=$pgdata"
      echo "PG_PORT=${PG_PORT:-$(free_port)}"
      echo "SMTP_PORT=${SMTP_PORT:-$(free_port)}"
      echo "HTTP_PORT=${HTTP_PORT:-$(free_port)}"
      echo "HOOKS_PORT=${HOOKS_PORT:-$(free_port)}"
      echo "SIGNUP_PORT=${SIGNUP_PORT:-$(free_port)}"
      echo "SECRET_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
    } >"$VAR/dev.env"
  fi
  # shellcheck disable=SC1091
  . "$VAR/dev.env"
  # a var/ made before the signup example had no port for it
  grep -q '^SIGNUP_PORT=' "$VAR/dev.env" || {
    SIGNUP_PORT=${SIGNUP_PORT:-$(free_port)}; echo "SIGNUP_PORT=$SIGNUP_PORT" >>"$VAR/dev.env"; }
  export MAILPROOF_CONFIG="$VAR/mailproof.conf"
  cat >"$MAILPROOF_CONFIG" <<EOF
# Written by dev.sh for this development stack; see etc/mailproof.conf.sample.
database_url = host=127.0.0.1 port=$PG_PORT dbname=mailproof user=mailproof
secret_key = $SECRET_KEY
public_base_url = http://127.0.0.1:$HTTP_PORT
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
smtp_starttls = no
# Each sync-mode send's outcome, for the notifier should a worker die (or
# lose the database) before it records it.
mail_journal = $VAR/mail-journal
mail_from = verify@mailproof.test
# No DNS on a development box: the deliverability tests start their own.
mx_check = false
# The demo tenant's webhooks go to the catcher on loopback.
webhook_allow_private = true
webhook_retry_base_ms = 1000
log_level = info
EOF
}

load_var() {
  VAR=${MPDEV_VAR:-$top/var}
  [ -f "$VAR/dev.env" ] || die "no stack in $VAR (run ./dev.sh up)"
  # shellcheck disable=SC1091
  . "$VAR/dev.env"
  export MAILPROOF_CONFIG="$VAR/mailproof.conf"
}

# ---------------------------------------------------------------- services
svc_pg_start() {
  local bin; bin=$(pg_bindir)
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    say "initdb $PGDATA"
    mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres: "$PGDATA"
    chmod 700 "$PGDATA"
    as_pg "$bin/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA'
max_connections = 100
EOF
    # Tests need no durability and run faster without it; the benchmarks
    # (MPDEV_DURABLE=1) measure what production runs: fsync and
    # synchronous_commit on.
    if [ "${MPDEV_DURABLE:-0}" = 1 ]; then
      printf 'fsync = on\nsynchronous_commit = on\nshared_buffers = 1GB\n%s\n' \
        "${MPDEV_PG_CONF:-}" >>"$PGDATA/postgresql.conf"
    else
      echo 'fsync = off' >>"$PGDATA/postgresql.conf"
    fi
  fi
  if ! as_pg "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    touch "$VAR/log/postgresql.log"
    [ "$(id -u)" = 0 ] && chown postgres: "$VAR/log/postgresql.log"
    as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$VAR/log/postgresql.log" -w -t 30 start >/dev/null
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAt -d postgres -v ON_ERROR_STOP=1 <<'EOF' >/dev/null
SELECT 'CREATE ROLE mailproof LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mailproof')\gexec
SELECT 'CREATE DATABASE mailproof OWNER mailproof' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'mailproof')\gexec
EOF
}

svc_pg_stop() {
  local bin; bin=$(pg_bindir)
  [ -f "$PGDATA/PG_VERSION" ] || return 0
  as_pg "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
}

# start_bg NAME CMD...: runs CMD in the background once, its output in
# log/NAME.log and its pid in run/NAME.pid.
start_bg() {
  local name=$1; shift
  pid_alive "$VAR/run/$name.pid" && return 1
  "$@" >>"$VAR/log/$name.log" 2>&1 &
  echo $! >"$VAR/run/$name.pid"
}

port_open() { $PY -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)"; }

svc_smtp_start() {
  start_bg smtp $PY "$top/tests/tools/smtp_catcher.py" --port "$SMTP_PORT" --dir "$VAR/mail" ||
    return 0
  wait_for "SMTP catcher" port_open "$SMTP_PORT"
}
svc_smtp_stop() { stop_pid "$VAR/run/smtp.pid"; }

svc_fcgi_start() {
  start_bg fcgi "$BUILD/mailproof-fcgi" --listen "unix:$VAR/run/fcgi.sock" \
    --workers "${MAILPROOF_WORKERS:-2}" || return 0
  wait_for "mailproof-fcgi" test -S "$VAR/run/fcgi.sock"
}
svc_fcgi_stop() { stop_pid "$VAR/run/fcgi.pid"; }

svc_hooks_start() {
  start_bg hooks $PY "$top/tests/tools/webhook_catcher.py" --port "$HOOKS_PORT" \
    --file "$VAR/webhooks.jsonl" || return 0
  wait_for "webhook catcher" port_open "$HOOKS_PORT"
}
svc_hooks_stop() { stop_pid "$VAR/run/hooks.pid"; }

svc_notifier_start() { start_bg notifier "$BUILD/mailproof-notifier" || true; }
svc_notifier_stop() { stop_pid "$VAR/run/notifier.pid"; }

svc_lighttpd_start() {
  sed -e "s|@VAR@|$VAR|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" "$top/lighttpd/dev.conf.in" \
    >"$VAR/lighttpd.conf"
  # the demo's redirect target: it shows what a magic link handed over
  cat >"$VAR/www/done.shtml" <<'HTML'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Back at the application</title></head>
<body><h1>Back at the application</h1>
<p>The magic link redirected here with: <code><!--#echo var="QUERY_STRING" --></code></p>
</body></html>
HTML
  start_bg lighttpd lighttpd -D -f "$VAR/lighttpd.conf" || return 0
  wait_for "lighttpd" curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz"
}
svc_lighttpd_stop() { stop_pid "$VAR/run/lighttpd.pid"; }

# The PHP signup example (examples/php-signup) under a private Apache with
# mod_php: the shipped snippet with this stack's paths, port, key and secret
# put in.  Its tenant's webhooks go to the example's webhook.php.
svc_signup_start() {
  pid_alive "$VAR/run/signup.pid" && return 0
  local dir="$VAR/signup" snippet="$top/examples/php-signup/apache-mod_php.conf" php user="" m
  php=$(ls /usr/lib/apache2/modules/libphp*.so 2>/dev/null | head -n 1)
  [ -n "$php" ] || die "no mod_php (apt install libapache2-mod-php)"
  mkdir -p "$dir/sessions"
  if [ ! -s "$dir/key" ]; then
    ctl tenant create --name "signup-example" \
      --webhook-url "http://127.0.0.1:$SIGNUP_PORT/webhook.php" --json |
      sed -n 's/.*"webhookSecret": "\(whsec_[^"]*\)".*/\1/p' >"$dir/whsec"
    ctl key create --tenant "signup-example" --json |
      sed -n 's/.*"key": "\(mpk_[^"]*\)".*/\1/p' >"$dir/key"
  fi
  if [ "$(id -u)" = 0 ]; then  # Apache started as root serves as www-data
    user=$'User www-data\nGroup www-data'
    chown www-data:www-data "$dir" "$dir/sessions"
  fi
  {
    for m in mpm_prefork authz_core dir env mime; do
      echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
    done
    cat <<EOF
LoadModule php_module $php
$user
ServerName localhost
Listen 127.0.0.1:$SIGNUP_PORT
PidFile $dir/apache.pid
ErrorLog $VAR/log/signup-apache.log
LogLevel warn
TypesConfig /etc/mime.types
<FilesMatch "\.php\$">
    SetHandler application/x-httpd-php
</FilesMatch>
php_value session.save_path $dir/sessions
EOF
    sed -e "s|\*:80|127.0.0.1:$SIGNUP_PORT|" \
        -e "s|/srv/php-signup|$top/examples/php-signup|g" \
        -e "s|http://127.0.0.1:8080|http://127.0.0.1:$HTTP_PORT|" \
        -e "s|mpk_\.\.\.|$(cat "$dir/key")|" \
        -e "s|whsec_\.\.\.|$(cat "$dir/whsec")|" \
        -e "s|/var/lib/php-signup/|$dir/|" "$snippet"
  } >"$dir/apache.conf"
  apache2 -f "$dir/apache.conf" -t >/dev/null 2>&1 ||
    die "the signup example's Apache config is wrong: apache2 -f $dir/apache.conf -t"
  # Its own session: the prefork MPM's shutdown signals its whole process group.
  start_bg signup setsid apache2 -f "$dir/apache.conf" -DFOREGROUND || return 0
  wait_for "the signup example" curl -fsS -o /dev/null "http://127.0.0.1:$SIGNUP_PORT/"
}
svc_signup_stop() { stop_pid "$VAR/run/signup.pid"; }

ctl() { "$BUILD/mailproofctl" "$@"; }

stack_up() {
  svc_pg_start
  ctl migrate >/dev/null	# sql/ of the source tree: the build finds it (data_dir)
  svc_smtp_start
  svc_hooks_start
  svc_fcgi_start
  svc_notifier_start
  svc_lighttpd_start
  svc_signup_start
}

stack_down() {
  svc_signup_stop
  svc_lighttpd_stop
  svc_notifier_stop
  svc_fcgi_stop
  svc_hooks_stop
  svc_smtp_stop
  svc_pg_stop
}

# throwaway_up DIR BUILD_DIR: a whole stack on free ports in DIR, for tests.
throwaway_up() {
  mkdir -p "$1"
  chmod 755 "$1"
  init_var "$1" "$2"
  stack_up
}

# throwaway_down DIR: stops what throwaway_up started and removes its
# PostgreSQL cluster (DIR itself, with the logs, is the caller's).
throwaway_down() {
  VAR=$1
  # shellcheck disable=SC1091
  . "$VAR/dev.env"
  stack_down
  case "$PGDATA" in /var/tmp/mailproof-pg-*) rm -rf "$PGDATA" ;; esac
}

# The demo tenant's key, made once; its webhook secret is kept beside it
# ($VAR/demo.whsec) so that the README's signature check can use it.
demo_key() {
  if [ ! -s "$VAR/demo.key" ]; then
    ctl tenant list --json | grep -q '"name": "demo"' ||
      ctl tenant create --name demo --webhook-url "http://127.0.0.1:$HOOKS_PORT/hooks" --json |
        sed -n 's/.*"webhookSecret": "\(whsec_[^"]*\)".*/\1/p' >"$VAR/demo.whsec"
    ctl key create --tenant demo --json | sed -n 's/.*"key": "\(mpk_[^"]*\)".*/\1/p' \
      >"$VAR/demo.key"
  fi
  cat "$VAR/demo.key"
}

# ---------------------------------------------------------------- commands
cmd_up() {
  install_packages
  build "$top/build" --enable-werror
  HTTP_PORT=${HTTP_PORT:-8080} PG_PORT=${PG_PORT:-54329} SMTP_PORT=${SMTP_PORT:-2525} \
    SIGNUP_PORT=${SIGNUP_PORT:-8081}
  init_var "${MPDEV_VAR:-$top/var}" "$top/build"
  # A rebuilt binary must be the one that serves: restart the app processes.
  svc_signup_stop
  svc_lighttpd_stop
  svc_notifier_stop
  svc_fcgi_stop
  stack_up
  local key; key=$(demo_key)
  cat <<EOF

mailproof is running on http://127.0.0.1:$HTTP_PORT  (logs: $VAR/log/, mail: $VAR/mail/,
webhooks received: $VAR/webhooks.jsonl)
demo API key (tenant "demo"): $key
its webhook secret: $VAR/demo.whsec (mailproofctl tenant rotate-secret demo makes a new one)
the PHP signup example: http://127.0.0.1:$SIGNUP_PORT/  (users in $VAR/signup/signup.sqlite)

  curl -s http://127.0.0.1:$HTTP_PORT/healthz
  curl -s -H "Authorization: Bearer $key" \\
       http://127.0.0.1:$HTTP_PORT/v1/verifications/email/ev_00000000000000000000000000

mailproofctl: MAILPROOF_CONFIG=$VAR/mailproof.conf build/mailproofctl tenant list
stop everything: ./dev.sh down
EOF
}

cmd_down() {
  load_var
  stack_down
  say "stopped"
}

cmd_status() {
  load_var
  local s
  for s in smtp hooks fcgi notifier lighttpd signup; do
    if pid_alive "$VAR/run/$s.pid"; then echo "$s: running (pid $(cat "$VAR/run/$s.pid"))"
    else echo "$s: stopped"; fi
  done
  as_pg "$(pg_bindir)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 &&
    echo "postgresql: running (port $PG_PORT)" || echo "postgresql: stopped"
}

# Internal, for the integration tests' harness: ./dev.sh stack up DIR BUILD_DIR
# and ./dev.sh stack down DIR.
cmd_stack() {
  case "${1:-}:$#" in
    up:3) (throwaway_up "$2" "$3") ;;
    down:2) (throwaway_down "$2") ;;
    *) die "usage: dev.sh stack up DIR BUILD_DIR | dev.sh stack down DIR" ;;
  esac
}

# Internal, for the integration tests: ./dev.sh service NAME start|stop
cmd_service() {
  load_var
  local name=${1:-} action=${2:-}
  case "$name:$action" in
    pg:start|pg:stop|smtp:start|smtp:stop|hooks:start|hooks:stop|fcgi:start|fcgi:stop|\
    notifier:start|notifier:stop|lighttpd:start|lighttpd:stop|signup:start|signup:stop)
      "svc_${name}_${action}" ;;
    *) die "usage: dev.sh service pg|smtp|hooks|fcgi|notifier|lighttpd|signup start|stop" ;;
  esac
}

# count NAME CMD...: one check that passes when CMD exits 0.
count() {
  local name=$1 out; shift
  if out=$("$@" 2>&1); then
    echo "ok     $name"; TOTAL_PASS=$((TOTAL_PASS + 1))
  else
    echo "FAIL   $name"; printf '%s\n' "$out" | tail -n 30; TOTAL_FAIL=$((TOTAL_FAIL + 1))
  fi
}

# Runs unit and integration tests against one build; adds to the totals.
run_suite() {
  local label=$1 dir=$2 p f
  say "[$label] unit tests"
  make -C "$dir" check >"$dir/check.out" 2>&1 || true
  # Count Check's cases ("Checks: N, Failures: F, Errors: E"), not programs.
  for f in "$dir"/tests/unit/t_*.log; do
    local line n bad
    line=$(grep -o 'Checks: [0-9]*, Failures: [0-9]*, Errors: [0-9]*' "$f" | tail -n 1)
    if [ -z "$line" ]; then
      echo "FAIL   unit $(basename "$f" .log): no result (crashed?)"; tail -n 20 "$f"
      TOTAL_FAIL=$((TOTAL_FAIL + 1)); continue
    fi
    n=$(echo "$line" | sed 's/Checks: \([0-9]*\),.*/\1/')
    bad=$(echo "$line" | sed 's/.*Failures: \([0-9]*\), Errors: \([0-9]*\)/\1 + \2/')
    bad=$((bad))
    TOTAL_PASS=$((TOTAL_PASS + n - bad)); TOTAL_FAIL=$((TOTAL_FAIL + bad))
    if [ "$bad" = 0 ]; then echo "ok     unit $(basename "$f" .log): $n checks"
    else echo "FAIL   unit $(basename "$f" .log)"; grep ':[FE]:' "$f" || tail -n 20 "$f"; fi
  done
  if ! ls "$dir"/tests/unit/t_*.log >/dev/null 2>&1; then
    tail -n 30 "$dir/check.out"; TOTAL_FAIL=$((TOTAL_FAIL + 1))
  fi

  say "[$label] integration tests"
  local var; var=$(mktemp -d /tmp/mailproof-test.XXXXXX)
  ( throwaway_up "$var" "$dir" ) || { TOTAL_FAIL=$((TOTAL_FAIL + 1)); return; }
  local PASSED='' FAILED=''
  MPDEV_VAR=$var $PY "$top/tests/integration/run.py" --results "$var/results.env" || true
  # shellcheck disable=SC1091
  [ -f "$var/results.env" ] && . "$var/results.env"
  p=$PASSED f=$FAILED
  if [ -z "$p" ]; then TOTAL_FAIL=$((TOTAL_FAIL + 1)); else
    TOTAL_PASS=$((TOTAL_PASS + p)); TOTAL_FAIL=$((TOTAL_FAIL + f)); fi
  if [ "${f:-1}" != 0 ]; then
    say "[$label] logs of the failed run:"; tail -n 40 "$var"/log/fcgi.log >&2 || true
  fi
  # screenshots of the browser tests outlive the throw-away directory
  if [ -d "$var/artifacts" ]; then
    mkdir -p "$top/test-artifacts/$label"
    cp "$var"/artifacts/* "$top/test-artifacts/$label/" 2>/dev/null || true
  fi
  ( throwaway_down "$var" )
  # A sanitizer report anywhere in the logs fails the run, even if every
  # request looked right.
  # (processes Apache spawns write to its own error log)
  if grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" \
       "$var"/log/*.log "$var"/apache-*/error.log >&2 2>/dev/null; then
    say "[$label] sanitizer reports:"
    grep -h -A20 "Sanitizer\|runtime error:" "$var"/log/*.log "$var"/apache-*/error.log 2>/dev/null |
      head -n 60 >&2
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
  fi
  rm -rf "$var"
}

# What only the tests need: Debian's Chromium (and a CJK font), PHPUnit, node, and
# the npm packages of tests/node (standardwebhooks checks webhook signatures
# independently, playwright-core drives Chromium; it never downloads a browser
# of its own).
node_deps() {
  local want=()
  command -v node >/dev/null && command -v npm >/dev/null || want+=(nodejs npm)
  [ -x /usr/bin/chromium ] || want+=(chromium)
  command -v tidy >/dev/null || want+=(tidy)
  command -v phpunit >/dev/null || want+=(phpunit)
  # the screenshots of Japanese and Chinese pages need a CJK font
  [ -f /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || want+=(fonts-ipafont-gothic)
  if [ ${#want[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "the tests need: ${want[*]}"
    say "installing ${want[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  fi
  # every dependency of package.json, or npm ci again
  local d missing=0
  for d in $(cd "$top/tests/node" &&
             node -p 'Object.keys(require("./package.json").dependencies).join(" ")'); do
    [ -d "$top/tests/node/node_modules/$d" ] || missing=1
  done
  [ $missing = 0 ] ||
    (cd "$top/tests/node" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
      npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

cmd_test() {
  install_packages
  node_deps
  build "$top/build" --enable-werror
  build "$top/build-asan" --enable-werror --enable-sanitizers
  TOTAL_PASS=0 TOTAL_FAIL=0
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite plain "$top/build"
  run_suite asan "$top/build-asan"
  # the README's way to run one test: the harness starts and stops its own stack
  count "integration: one test file on a stack of its own" \
    env -u MPDEV_VAR MPDEV_BUILD="$top/build" "$top/tests/integration/run.py" test_30_verify
  count "banned functions" "$top/tests/tools/check-banned.sh"
  count "fuzz: every target of tests/fuzz for 20 s (make fuzz-run)" \
    make -s -C "$top/build" fuzz-run FUZZ_SECONDS=20
  count "valgrind: unit tests" make -s -C "$top/build" check \
    LOG_COMPILER="valgrind" \
    AM_LOG_FLAGS="--quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --trace-children=yes"
  count "make distcheck" make -s -C "$top/build" distcheck
  echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
  [ "$TOTAL_FAIL" = 0 ]
}

# bench/run.sh sources this file for its functions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  test) cmd_test ;;
  status) cmd_status ;;
  test-package) exec "$top/tests/package/test-deb.sh" ;;
  service) shift; cmd_service "$@" ;;
  stack) shift; cmd_stack "$@" ;;
  *) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
