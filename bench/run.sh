#!/usr/bin/env bash
# Throughput of mailproof behind lighttpd, as ratios to a baseline measured
# in the same run: lighttpd serving a small static file (the ceiling of the
# web server on this machine).  Needs the stack of ./dev.sh up, and wrk.
#   bench/run.sh [seconds per case, default 10] [connections, default 16]
# The machine is shared and noisy: compare ratios, not absolute numbers.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
VAR=${MPDEV_VAR:-$top/var}
. "$VAR/dev.env"
secs=${1:-10} conns=${2:-16}
base=http://127.0.0.1:$HTTP_PORT
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 1; }
export MAILPROOF_CONFIG=$VAR/mailproof.conf

# a tenant and a verification of its own; a huge maxAttempts budget is not
# possible (10 at most), so the verify case re-arms its row while it runs
name=bench-$(date +%s)
"$BUILD/mailproofctl" tenant create --name "$name" >/dev/null
export MPBENCH_KEY
MPBENCH_KEY=$("$BUILD/mailproofctl" key create --tenant "$name" --json |
  sed -n 's/.*"key": "\(mpk_[^"]*\)".*/\1/p')
psql() { command psql -h 127.0.0.1 -p "$PG_PORT" -U mailproof -d mailproof -qAt "$@"; }
psql -c "UPDATE tenants SET rate_per_key_per_minute = 0 WHERE name = '$name'"
vid=$(curl -s -X POST "$base/v1/verifications/email" -H "Authorization: Bearer $MPBENCH_KEY" \
  -H 'Content-Type: application/json' -d '{"email":"bench@example.com","maxAttempts":10}' |
  sed -n 's/.*"id":"\(ev_[0-9A-Z]*\)".*/\1/p')
echo "bench static file" >"$VAR/www/bench.txt"

rate() { wrk -t2 -c"$conns" -d"${secs}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
printf '%-44s %12s %8s\n' case req/s ratio
b=$(rate "$base/bench.txt")
printf '%-44s %12.0f %8.2f\n' "static file (lighttpd alone, baseline)" "$b" 1
r=$(rate "$base/healthz"); printf '%-44s %12.0f %8.2f\n' "GET /healthz (FastCGI + SELECT 1)" "$r" "$(echo "$r / $b" | bc -l)"
r=$(rate -s "$top/bench/get.lua" "$base/v1/verifications/email/$vid")
printf '%-44s %12.0f %8.2f\n' "GET verification (key check + read)" "$r" "$(echo "$r / $b" | bc -l)"
# keep the row checkable: a wrong code per request would fail it after 10
( while sleep 0.2; do psql -c "UPDATE verifications SET attempts = 0, status = 'PENDING' WHERE id = '$vid'"; done ) &
rearm=$!
r=$(rate -s "$top/bench/verify.lua" "$base/v1/verifications/email/$vid/verify")
kill $rearm
printf '%-44s %12.0f %8.2f\n' "POST verify, wrong code (one-statement write)" "$r" "$(echo "$r / $b" | bc -l)"
echo "($secs s per case, $conns connections, $(nproc) cores; run: $0 $*)"
