#!/bin/sh
# tests/fuzz/run.sh [SECONDS]: runs every libFuzzer target that `make fuzz`
# built, one after the other, for SECONDS each (default 20), and prints per
# target the executions made and the coverage reached (libFuzzer's cov:
# edges and ft: features).  Exits 1 when a target crashed (or leaked, or
# timed out), 2 when there is nothing to run.  `make fuzz-run
# FUZZ_SECONDS=N` builds the targets and runs this.
#
# Everything it writes is in the build tree, never in the source tree:
#   FUZZ_DIR/corpus/NAME/     inputs libFuzzer found, kept for the next run
#   FUZZ_DIR/artifacts/NAME/  crashing inputs (crash-*, leak-*, timeout-*)
#   FUZZ_DIR/logs/NAME.log    libFuzzer's output
# The seeds of tests/fuzz/corpus/NAME/ are read, never written.
#
# Environment: FUZZ_DIR, the targets' directory (default: build/fuzz of
# the source tree); FUZZ_ARGS, more libFuzzer options for every target.
set -u

secs=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
dir=${FUZZ_DIR:-$here/../../build/fuzz}
dir=$(cd "$dir" 2>/dev/null && pwd) || {
  echo "run.sh: no fuzz targets in ${FUZZ_DIR:-build/fuzz} (run make fuzz in the build tree, or set FUZZ_DIR)" >&2
  exit 2
}

case $secs in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
if ! ls "$dir"/fuzz_* >/dev/null 2>&1; then
  echo "run.sh: no fuzz targets in $dir (run make fuzz in the build tree, or set FUZZ_DIR)" >&2
  exit 2
fi

# undefined behaviour is a crash (the targets are built so); show where
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS

failed=0
for prog in "$dir"/fuzz_*; do
  [ -x "$prog" ] && [ -f "$prog" ] || continue
  name=${prog##*/fuzz_}
  work=$dir/corpus/$name
  crashes=$dir/artifacts/$name
  log=$dir/logs/$name.log
  mkdir -p "$work" "$crashes" "$dir/logs"
  set -- -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" -close_fd_mask=2
  [ -f "$here/$name.dict" ] && set -- "$@" -dict="$here/$name.dict"
  seeds=$here/corpus/$name
  [ -d "$seeds" ] || seeds=
  # new inputs go to the first directory, the build tree's; -close_fd_mask=2
  # silences the target's own log lines, not libFuzzer or the sanitizers
  # shellcheck disable=SC2086
  "$prog" "$@" ${FUZZ_ARGS:-} "$work" ${seeds:+"$seeds"} >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -n 1)
  cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc)"
    failed=1
  fi
  printf '%-10s %-6s %9s execs in %ss  cov: %-5s ft: %-6s corpus: %s\n' "$name" \
    "${result%% *}" "${execs:-?}" "$secs" "${cov:-?}" "${ft:-?}" "${corp:-?}"
  if [ $rc -ne 0 ]; then
    echo "  $result; log: $log"
    sed -n 's/.*Test unit written to \(.*\)/  artifact: \1/p' "$log"
    grep -E 'ERROR: |fuzz check failed|runtime error|SUMMARY' "$log" | head -n 5 | sed 's/^/  /'
  fi
done
exit $failed
