#!/usr/bin/env bash
# tests/package/test-deb.sh: the Debian package, built, linted, installed on
# this machine, used and purged.  Run as root on a throw-away Debian 12
# machine (the CI box): it installs the package for real with apt-get, so it
# first checks that nothing of mailproof is installed, and purges it at the end.
#
#   1. builds the .deb from a clean copy of the checkout (build-deb.sh);
#   2. lintian: any error or warning without an override fails;
#   3. apt-get install ./mailproof_*.deb;
#   4. the user and group, the generated config (0640 root:mailproof, a
#      secret_key of its own), nothing started, no unit enabled, the Apache
#      conf and the lighttpd module not enabled; an upgrade (the same package
#      as version +test1) and a reinstall keep an edited config;
#   5. systemd-analyze verify on the installed units, then their ExecStart
#      lines by hand (systemd is not PID 1 here) as the users they name,
#      against a private PostgreSQL, SMTP catcher and webhook catcher;
#   6. a private Apache that Includes the installed
#      /etc/apache2/conf-available/mailproof.conf: a verification with curl,
#      then the integration suite's core files through it;
#   7. remove (the config and state stay, the drop-ins enabled meanwhile are
#      disabled), then purge: every path of `dpkg -L` is gone, but for
#      directories other packages own, and so are /etc/mailproof and
#      /var/lib/mailproof; the system user stays (Debian policy).
#
# Prints ok/FAIL/skipped lines and `N passed, N failed`; exits 1 on any
# failure.  Heavy steps run under flock /tmp/mailproof-cpu.lock.  Keeps its
# directory (/tmp/mailproof-pkgtest.*) when something failed.
# MPDEV_PKG_TESTS overrides the integration files run in step 6.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCK=/tmp/mailproof-cpu.lock
PASS=0 FAIL=0
CORE_TESTS=${MPDEV_PKG_TESTS:-"test_10_errors test_20_auth test_30_verify test_32_database test_33_lifecycle test_40_ctl test_42_doctor test_60_otp test_65_smtp test_67_deliverability test_85_locale test_86_tenant_templates test_99_openapi"}

ok() { echo "ok     $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL   $*"; FAIL=$((FAIL + 1)); }
skipped() { echo "skipped $*"; }
say() { printf '==> %s\n' "$*"; }
# check NAME CMD...: ok when CMD exits 0; its output on failure
check() {
  local name=$1 out; shift
  if out=$("$@" 2>&1); then ok "$name"; else fail "$name"; printf '%s\n' "$out" | tail -n 20 | sed 's/^/       /'; fi
}
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" = 0 ]
  exit $?
}

[ "$(id -u)" = 0 ] || { echo "test-deb.sh: run as root (it installs the package)" >&2; exit 2; }

installed() { dpkg-query -W -f='${Status}' mailproof 2>/dev/null | grep -Eq 'installed|config-files|unpacked|half'; }
# pids of processes running an installed mailproof program (not other people's
# builds: their stacks run binaries from their own trees)
our_pids() {
  local p e
  for p in /proc/[0-9]*; do
    e=$(readlink "$p/exe" 2>/dev/null) || continue
    case $e in /usr/bin/mailproof-fcgi|/usr/bin/mailproofctl|/usr/bin/mailproof-notifier) echo "${p#/proc/}" ;; esac
  done
}

# ------------------------------------------------------------ 0. preconditions
if installed || [ -e /etc/mailproof ] || [ -e /usr/share/mailproof ] || [ -e /var/lib/mailproof ]; then
  fail "nothing of mailproof is installed before the test (dpkg -l mailproof; /etc/mailproof, /usr/share/mailproof, /var/lib/mailproof): not touching it"
  finish
fi
ok "nothing of mailproof is installed before the test"
had_user=0; getent passwd mailproof >/dev/null && had_user=1

# what the build, lintian and the run need (on the CI box most are there)
need=()
for p in debhelper dh-autoreconf lintian pkgconf libpq-dev libjansson-dev libsodium-dev \
         libcurl4-openssl-dev libssl-dev libfcgi-dev libesmtp-dev check \
         postgresql apache2 python3-aiosmtpd curl systemd; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  # Keep the packages' own services (a system PostgreSQL, Apache on :80) from
  # starting while they install; removed before mailproof is installed.
  prc=/usr/sbin/policy-rc.d; had_prc=1
  [ -e $prc ] || { had_prc=0; printf '#!/bin/sh\nexit 101\n' >$prc; chmod +x $prc; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${need[@]}" >/dev/null
  rc=$?
  [ $had_prc = 1 ] || rm -f $prc
  [ $rc = 0 ] || { fail "installing the test's dependencies: ${need[*]}"; finish; }
fi

W=$(mktemp -d /tmp/mailproof-pkgtest.XXXXXX)
chmod 755 "$W"
VAR=$W/var
mkdir -p "$VAR"/{log,run,mail,apache}
APACHE_PID=''
cleanup() {
  [ -n "$APACHE_PID" ] && { kill "$APACHE_PID" 2>/dev/null; wait "$APACHE_PID" 2>/dev/null; }
  local f
  for f in "$VAR"/run/fcgi.pid "$VAR"/run/notifier.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  if [ -f "$VAR/dev.env" ]; then
    for f in hooks smtp pg; do MPDEV_VAR=$VAR "$top/dev.sh" service $f stop >/dev/null 2>&1; done
  fi
  if installed; then
    a2disconf -q mailproof >/dev/null 2>&1
    rm -f /etc/lighttpd/conf-enabled/50-mailproof.conf
    dpkg --purge mailproof >/dev/null 2>&1
  fi
  rm -rf /run/mailproof
  [ "$had_user" = 1 ] || { deluser --system --quiet mailproof >/dev/null 2>&1; delgroup --system --quiet mailproof >/dev/null 2>&1; }
  if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept for a look: $W"; fi
}
trap cleanup EXIT

# ------------------------------------------------------------ 1. build
say "building the package (tests/package/build-deb.sh)"
if ! debs=$(flock "$LOCK" "$top/tests/package/build-deb.sh" "$W/deb"); then
  fail "dpkg-buildpackage -us -uc -b"; finish
fi
DEB=$(printf '%s\n' "$debs" | grep '/mailproof_[^/]*\.deb$')
ok "dpkg-buildpackage -us -uc -b: $(basename "$DEB")"
if grep -q '^# TOTAL: ' "$W/deb/build.log"; then
  check "the unit tests ran in the build ($(grep '^# PASS: ' "$W/deb/build.log" | tr -s ' '))" \
    grep -q '^# FAIL:  0' "$W/deb/build.log"
else
  skipped "the unit tests in the build (DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-} or no Check)"
fi

# ------------------------------------------------------------ 2. lintian
say "lintian"
flock "$LOCK" lintian --fail-on error,warning "$DEB" >"$W/lintian.out" 2>&1
lrc=$?
lint=$(grep -v 'running with root privileges' "$W/lintian.out")
if [ "$lrc" = 0 ]; then
  ok "lintian: no error or warning without an override${lint:+ ($(printf '%s\n' "$lint" | wc -l) info/pedantic lines)}"
else
  fail "lintian"; printf '%s\n' "$lint" | sed 's/^/       /'
fi

# ------------------------------------------------------------ 3. install
say "apt-get install $DEB"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$DEB" \
     >"$W/install.log" 2>&1; then
  fail "apt-get install ./$(basename "$DEB")"; tail -n 20 "$W/install.log"; finish
fi
ok "apt-get install ./$(basename "$DEB")"
check "postinst says where to start (README.Debian)" grep -q README.Debian "$W/install.log"

# ------------------------------------------------------------ 4. what it did
CONF=/etc/mailproof/mailproof.conf
check "system user mailproof: home /var/lib/mailproof, nologin, a system uid" \
  bash -c 'IFS=: read -r _ _ uid gid _ home shell < <(getent passwd mailproof) &&
           [ "$home" = /var/lib/mailproof ] && [ "$shell" = /usr/sbin/nologin ] &&
           [ "$uid" -lt 1000 ] && [ "$(getent group mailproof | cut -d: -f3)" = "$gid" ]'
check "$CONF: mode 0640 root:mailproof" test "$(stat -c '%a %U %G' $CONF)" = "640 root mailproof"
check "$CONF: a generated secret_key (64 hex)" grep -Eq '^secret_key = [0-9a-f]{64}$' $CONF
check "$CONF: not a dpkg conffile (dpkg will never offer the sample in its place)" \
  bash -c "! dpkg-query -W -f='\${Conffiles}' mailproof | grep -q ' $CONF '"
check "the drop-ins are conffiles" bash -c "dpkg-query -W -f='\${Conffiles}' mailproof | grep -q /etc/apache2/conf-available/mailproof.conf &&
  dpkg-query -W -f='\${Conffiles}' mailproof | grep -q /etc/lighttpd/conf-available/50-mailproof.conf"
check "/var/lib/mailproof: 0750 mailproof:mailproof" test "$(stat -c '%a %U %G' /var/lib/mailproof)" = "750 mailproof mailproof"
check "--check-config accepts the generated config (but for database_url)" \
  /usr/bin/mailproof-fcgi --config $CONF --check-config
check "no mailproof program was started" test -z "$(our_pids)"
enabled=$(ls -l /etc/systemd/system/*.wants/ /etc/systemd/system/ 2>/dev/null | grep mailproof)
check "no mailproof unit enabled (/etc/systemd/system): ${enabled:-none}" test -z "$enabled"
check "systemctl is-enabled: disabled, disabled, static" \
  test "$(systemctl is-enabled mailproof-fcgi.service mailproof-notifier.service mailproof-migrate.service 2>&1 | tr '\n' ' ')" = "disabled disabled static "
check "postinst starts nothing on first install (only [ -n \"\$2\" ] upgrades of running services)" \
  bash -c "! grep -E 'deb-systemd-invoke +(start|restart)|systemctl +(start|enable)' /var/lib/dpkg/info/mailproof.postinst | grep -v 'mailproof-migrate.service ||'"
check "Apache conf installed, not enabled (a2enconf mailproof enables it)" \
  bash -c 'test -f /etc/apache2/conf-available/mailproof.conf && ! test -e /etc/apache2/conf-enabled/mailproof.conf && ! a2query -q -c mailproof'
check "lighttpd module installed, not enabled (lighty-enable-mod mailproof enables it)" \
  bash -c 'test -f /etc/lighttpd/conf-available/50-mailproof.conf && ! test -e /etc/lighttpd/conf-enabled/50-mailproof.conf'
check "the drop-ins and the unit name one socket, /run/mailproof/fcgi.sock" \
  bash -c 'grep -q "unix:/run/mailproof/fcgi.sock|fcgi" /etc/apache2/conf-available/mailproof.conf &&
           grep -q "\"/run/mailproof/fcgi.sock\"" /etc/lighttpd/conf-available/50-mailproof.conf &&
           grep -q "^ExecStart=.*--listen unix:/run/mailproof/fcgi.sock" /lib/systemd/system/mailproof-fcgi.service'
check "no logrotate file (the programs log to stderr; the notifier rotates the mail_journal)" \
  bash -c '! dpkg -L mailproof | grep -q logrotate'

# an edited config survives an upgrade and a reinstall
key=$(sed -n 's/^secret_key = //p' $CONF)
echo "# edited by test-deb.sh" >>$CONF
chmod 0600 $CONF   # the admin's choice stays too
up=$W/upgrade
dpkg-deb -R "$DEB" "$up"
sed -i 's/^Version: \(.*\)$/Version: \1+test1/' "$up/DEBIAN/control"
dpkg-deb -b --root-owner-group "$up" "$W/mailproof_upgrade.deb" >/dev/null
check "dpkg -i: an upgrade (the same package as version +test1)" dpkg -i "$W/mailproof_upgrade.deb"
check "dpkg -i: a reinstall of the built version (a downgrade)" dpkg -i "$DEB"
check "the edited config was kept: the edit, the key and the mode" \
  bash -c "grep -q '^# edited by test-deb.sh' $CONF && grep -qx 'secret_key = $key' $CONF && test \$(stat -c %a $CONF) = 600"
chmod 0640 $CONF
check "still nothing started or enabled after the upgrades" \
  bash -c "test -z \"\$(ls /etc/systemd/system/*.wants/ 2>/dev/null | grep mailproof)\" && test ! -e /etc/apache2/conf-enabled/mailproof.conf"
[ -z "$(our_pids)" ] || fail "a mailproof program runs after the upgrades: $(our_pids)"

# ------------------------------------------------------------ 5. the units
UNITS=(/lib/systemd/system/mailproof-migrate.service /lib/systemd/system/mailproof-fcgi.service
       /lib/systemd/system/mailproof-notifier.service)
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  echo "note: systemd is PID 1, but the units are still run by hand here (no system changes)"
else
  echo "note: systemd is not PID 1: units verified with systemd-analyze, ExecStart run by hand"
fi
check "systemd-analyze verify ${UNITS[*]##*/}" systemd-analyze verify "${UNITS[@]}"

# unit_key UNIT KEY: the value of KEY= in UNIT (the last one)
unit_key() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
# run_unit UNIT [bg LOGNAME]: its ExecStart as its User=, Group=,
# SupplementaryGroups=, UMask= and Environment=, as systemd would (without
# the sandboxing, which needs systemd); RuntimeDirectory= made like systemd does.
run_unit() {
  local u=$1 user group sup umask envs rt rtmode line
  user=$(unit_key "$u" User) group=$(unit_key "$u" Group) sup=$(unit_key "$u" SupplementaryGroups)
  umask=$(unit_key "$u" UMask) rt=$(unit_key "$u" RuntimeDirectory) rtmode=$(unit_key "$u" RuntimeDirectoryMode)
  line=$(unit_key "$u" ExecStart)
  envs=$(sed -n 's/^Environment=//p' "$u")
  if [ -n "$rt" ]; then
    install -d -o "$user" -g "${group:-$user}" -m "${rtmode:-0755}" "/run/$rt"
  fi
  local -a argv cmd
  read -ra argv <<<"$line"
  cmd=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $envs
       setpriv --reuid="$user" --regid="${group:-$user}")
  if [ -n "$sup" ]; then cmd+=(--groups="$sup"); else cmd+=(--clear-groups); fi
  cmd+=(--no-new-privs -- "${argv[@]}")
  if [ "${2:-}" = bg ]; then
    (umask "${umask:-0022}"; exec setsid "${cmd[@]}" >>"$VAR/log/$3.log" 2>&1 </dev/null) &
    echo $! >"$VAR/run/$3.pid"
  else
    (umask "${umask:-0022}"; "${cmd[@]}")
  fi
}

# the private stack: dev.sh's PostgreSQL, SMTP catcher and webhook catcher,
# on free ports, with the installed programs as BUILD
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
{
  echo "BUILD=/usr/bin"
  echo "PGDATA=$VAR/pg"
  echo "PG_PORT=$(free_port)"
  echo "SMTP_PORT=$(free_port)"
  echo "HTTP_PORT=$(free_port)"
  echo "HOOKS_PORT=$(free_port)"
  echo "SIGNUP_PORT=$(free_port)"
  echo "SECRET_KEY=$key"   # the one postinst made: the harness hashes codes with it
} >"$VAR/dev.env"
. "$VAR/dev.env"
say "PostgreSQL (port $PG_PORT), SMTP and webhook catchers (dev.sh service)"
for s in pg smtp hooks; do
  check "dev.sh service $s start" env MPDEV_VAR="$VAR" "$top/dev.sh" service $s start
done

# the config the operator would write, appended to the generated one
cat >>$CONF <<EOF

# --- test-deb.sh: the private stack
database_url = host=127.0.0.1 port=$PG_PORT dbname=mailproof user=mailproof
public_base_url = http://127.0.0.1:$HTTP_PORT
smtp_host = 127.0.0.1
smtp_port = $SMTP_PORT
smtp_starttls = no
mail_from = verify@mailproof.test
mx_check = false
webhook_allow_private = true
webhook_retry_base_ms = 1000
log_level = info
EOF
# the harness runs mailproofctl (as root) with $VAR/mailproof.conf: the same file
cp $CONF "$VAR/mailproof.conf"

check "mailproof-migrate.service ExecStart, as mailproof: mailproofctl migrate (sql/ from /usr/share/mailproof)" \
  run_unit /lib/systemd/system/mailproof-migrate.service
again=$(run_unit /lib/systemd/system/mailproof-migrate.service 2>&1)
check "again: nothing to do ($again)" grep -q 'nothing to do' <<<"$again"
run_unit /lib/systemd/system/mailproof-fcgi.service bg fcgi
for _ in $(seq 100); do [ -S /run/mailproof/fcgi.sock ] && break; sleep 0.1; done
check "mailproof-fcgi.service ExecStart: the master listens on /run/mailproof/fcgi.sock" test -S /run/mailproof/fcgi.sock
check "the socket: mode 0660 mailproof:www-data, in /run/mailproof 0750 mailproof:www-data" \
  test "$(stat -c '%a %U %G' /run/mailproof/fcgi.sock) $(stat -c '%a %U %G' /run/mailproof)" = "660 mailproof www-data 750 mailproof www-data"
# ids_of PID: "uid gid groups" from /proc (ps cuts names longer than 8)
ids_of() { awk '/^Uid:/ {u=$2} /^Gid:/ {g=$2} /^Groups:/ {$1=""; s=$0} END {print u, g s}' "/proc/$1/status"; }
want_ids="$(id -u mailproof) $(getent group www-data | cut -d: -f3) $(getent group mailproof | cut -d: -f3)"
sleep 1
fcgi_pid=$(cat "$VAR/run/fcgi.pid")
worker=$(pgrep -P "$fcgi_pid" | head -n 1)
check "the master and its workers run as mailproof, group www-data, supplementary group mailproof" \
  test "$(ids_of "$fcgi_pid")|$(ids_of "${worker:-0}" 2>/dev/null)" = "$want_ids|$want_ids"
# test_60_otp talks FastCGI to the stack's socket directly
ln -sf /run/mailproof/fcgi.sock "$VAR/run/fcgi.sock"
run_unit /lib/systemd/system/mailproof-notifier.service bg notifier
sleep 1
check "mailproof-notifier.service ExecStart: the notifier runs as mailproof" \
  bash -c "test \"\$(ps -o user= -p \$(cat $VAR/run/notifier.pid))\" = mailproof"

# ------------------------------------------------------------ 6. through Apache
say "a private Apache with the installed drop-in, on port $HTTP_PORT"
{
  for m in mpm_event authz_core authz_host alias proxy proxy_fcgi; do
    echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
  done
  cat <<EOF
User www-data
Group www-data
ServerName localhost
Listen 127.0.0.1:$HTTP_PORT
PidFile $VAR/apache/apache.pid
ErrorLog $VAR/apache/error.log
LogLevel warn
DocumentRoot $VAR/apache
Include /etc/apache2/conf-available/mailproof.conf
EOF
} >"$VAR/apache/apache.conf"
check "apache2 -t with Include /etc/apache2/conf-available/mailproof.conf" apache2 -f "$VAR/apache/apache.conf" -t
setsid apache2 -f "$VAR/apache/apache.conf" -DFOREGROUND &
APACHE_PID=$!
API=http://127.0.0.1:$HTTP_PORT
for _ in $(seq 100); do curl -fsS -o /dev/null "$API/healthz" 2>/dev/null && break; sleep 0.2; done
check "GET /healthz through Apache (as www-data) to the socket: 200" \
  bash -c "curl -fsS $API/healthz | grep -q '\"status\": *\"ok\"'"

# a tenant and key, made with mailproofctl as the service user, as README.Debian says
ctl() { setpriv --reuid=mailproof --regid=mailproof --clear-groups -- env MAILPROOF_CONFIG=$CONF /usr/bin/mailproofctl "$@"; }
ctl tenant create --name pkgtest >/dev/null 2>&1
KEY=$(ctl key create --tenant pkgtest --json 2>/dev/null | sed -n 's/.*"key": "\(mpk_[^"]*\)".*/\1/p')
check "mailproofctl as mailproof: tenant create, key create" test -n "$KEY"
addr="pkg-$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')@example.com"
start=$(curl -sS -o "$W/start.json" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -d "{\"email\":\"$addr\"}" "$API/v1/verifications/email")
check "POST /v1/verifications/email through Apache: 201 (got $start)" test "$start" = 201
vid=$(sed -n 's/.*"id": *"\(ev_[^"]*\)".*/\1/p' "$W/start.json" | head -n 1)
code=$(MPDEV_VAR=$VAR MPDEV_SRC=$top python3 -c "
import sys; sys.path.insert(0, '$top/tests/integration')
from harness import Env; print(Env().code_from_mail('$addr'))" 2>"$W/code.err")
check "the code arrived by mail (SMTP catcher)" test -n "$code"
verify=$(curl -sS -o "$W/verify.json" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -d "{\"code\":\"$code\"}" "$API/v1/verifications/email/$vid/verify")
check "POST .../verify with the code through Apache: 200 VERIFIED (got $verify)" \
  bash -c "test '$verify' = 200 && grep -q VERIFIED '$W/verify.json'"
check "GET /metrics from 127.0.0.1 through Apache: 200" \
  bash -c "curl -fsS $API/metrics | grep -q mailproof_http_requests_total"
check "the journal of the sync send is in /var/lib/mailproof, mailproof's" \
  test "$(stat -c '%U' /var/lib/mailproof/mail-journal 2>/dev/null)" = mailproof

# Tests that cannot hold through the shipped drop-in, with the reason.
declare -A NOT_HERE=(
  [test_10_errors.test_unknown_route_is_404_envelope]="asks GET / for mailproof's 404; the drop-in routes only /v1/, /healthz and /metrics, the rest of the site is Apache's"
)
# integration PATTERN: run.py PATTERN against the stack; ok when all pass
integration() {
  local out last
  out=$(MPDEV_VAR=$VAR MPDEV_SRC=$top flock "$LOCK" python3 "$top/tests/integration/run.py" "$1" 2>&1)
  last=$(printf '%s\n' "$out" | tail -n 1)
  if printf '%s\n' "$last" | grep -Eq '^[1-9][0-9]* passed, 0 failed$'; then
    ok "integration $1: $last"
  else
    fail "integration $1: $last"; printf '%s\n' "$out" | grep -A6 '^FAIL' | head -n 40 | sed 's/^/       /'
  fi
}
for t in $CORE_TESTS; do
  say "integration: $t (installed programs, through the installed Apache drop-in)"
  skip=()
  for k in "${!NOT_HERE[@]}"; do [ "${k%%.*}" = "$t" ] && skip+=("$k"); done
  if [ ${#skip[@]} = 0 ]; then integration "$t"; continue; fi
  # one run per test but the ones that cannot hold here
  for f in $(sed -n 's/^def \(test_[A-Za-z0-9_]*\)(.*/\1/p' "$top/tests/integration/$t.py"); do
    if [ -n "${NOT_HERE[$t.$f]:-}" ]; then skipped "integration $t.$f: ${NOT_HERE[$t.$f]}"
    else integration "$t.$f"; fi
  done
done
check "Apache's error log: no proxy errors" bash -c "! grep -q 'AH0[0-9]*: .*\(fcgi\|proxy\)' '$VAR/apache/error.log'"

# stop what ran, as systemctl stop would (SIGTERM)
kill "$APACHE_PID" 2>/dev/null; wait "$APACHE_PID" 2>/dev/null; APACHE_PID=''
for s in notifier fcgi; do
  pid=$(cat "$VAR/run/$s.pid"); kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  check "SIGTERM stops $s" bash -c "! kill -0 $pid 2>/dev/null"
  rm -f "$VAR/run/$s.pid"
done
for s in hooks smtp pg; do MPDEV_VAR=$VAR "$top/dev.sh" service $s stop >/dev/null 2>&1; done
rm -rf /run/mailproof   # RuntimeDirectory= goes when the service stops

# ------------------------------------------------------------ 7. remove, purge
say "remove, then purge"
a2enconf -q mailproof >/dev/null 2>&1
lighty-enable-mod mailproof >/dev/null 2>&1 </dev/null
check "a2enconf mailproof and lighty-enable-mod mailproof enable the drop-ins" \
  test -L /etc/apache2/conf-enabled/mailproof.conf -a -L /etc/lighttpd/conf-enabled/50-mailproof.conf
dpkg -L mailproof | sort -r >"$W/files"
check "dpkg -r mailproof" dpkg -r mailproof
check "after remove: the config and /var/lib/mailproof stay" test -f $CONF -a -d /var/lib/mailproof
check "after remove: the programs are gone" test ! -e /usr/bin/mailproof-fcgi
check "after remove: the drop-ins are disabled (they name a socket that will not come)" \
  test ! -e /etc/apache2/conf-enabled/mailproof.conf -a ! -L /etc/lighttpd/conf-enabled/50-mailproof.conf
check "dpkg --purge mailproof" dpkg --purge mailproof
left=()
while IFS= read -r f; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  [ "$f" = /. ] && continue
  # a directory another package owns, or one that existed before (/usr, /etc...)
  if [ -d "$f" ] && dpkg -S "$f" >/dev/null 2>&1; then continue; fi
  left+=("$f")
done <"$W/files"
check "after purge: every file of dpkg -L is gone (${#left[@]} left: ${left[*]:-none})" test ${#left[@]} = 0
check "after purge: no /etc/mailproof, /var/lib/mailproof, /usr/share/mailproof, conf-available files" \
  bash -c '! ls -d /etc/mailproof /var/lib/mailproof /usr/share/mailproof /etc/apache2/conf-available/mailproof.conf /etc/lighttpd/conf-available/50-mailproof.conf /lib/systemd/system/mailproof-* 2>/dev/null | grep .'
check "after purge: no enabled-link or deb-systemd-helper state left" \
  bash -c '! ls /etc/apache2/conf-enabled/mailproof.conf /etc/lighttpd/conf-enabled/50-mailproof.conf /var/lib/systemd/deb-systemd-helper-*/mailproof-* /var/lib/apache2/conf/*/mailproof 2>/dev/null | grep .'
check "after purge: dpkg knows no mailproof" bash -c '! dpkg-query -W mailproof >/dev/null 2>&1 || test -z "$(dpkg-query -W -f="\${Status}" mailproof | grep -v not-installed)"'
check "after purge: the system user and group stay (Debian policy: files may still name its uid)" \
  bash -c 'getent passwd mailproof >/dev/null && getent group mailproof >/dev/null'
[ "$had_user" = 1 ] || echo "note: the test removes the mailproof user it made (deluser --system) when it exits"

finish
