#!/usr/bin/env bash
# Runs each harness for a bounded time and prints one row per harness.
#   usage: fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]   (default: all)
# Per harness: the corpus grows in BUILD/corpus/<h> (kept between runs,
# started from BUILD/seeds/<h>), findings (crash-*, timeout-*, oom-*, leak-*)
# land in BUILD/findings/<h>/ and the log in BUILD/logs/<h>.log. libFuzzer
# stops a harness at its first finding; fix it, save the input under
# tests/fuzz_regressions/<h>/ and run again.
# Extra libFuzzer flags: FUZZ_FLAGS="-max_len=4096 ...".
set -uo pipefail
build=$(cd "$1" && pwd)
seconds=$2
shift 2
harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  for f in "$build"/*_fuzzer; do harnesses+=("$(basename "${f%_fuzzer}")"); done
fi
results=${FUZZ_RESULTS:-$build/fuzz-results.tsv}
: >"$results"
status=0
for h in "${harnesses[@]}"; do
  bin=$build/${h}_fuzzer
  [[ -x $bin ]] || { echo "no harness $bin" >&2; status=1; continue; }
  corpus=$build/corpus/$h findings=$build/findings/$h log=$build/logs/$h.log
  mkdir -p "$corpus" "$findings" "$build/logs" "$build/seeds/$h"
  rm -f "$findings"/*
  echo "== $h: ${seconds}s" >&2
  (cd "$findings" && "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$findings/" ${FUZZ_FLAGS:-} \
    "$corpus" "$build/seeds/$h") >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  eps=$(grep -o 'stat::average_exec_per_sec: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  # Stopped at a finding: no final stats, take the last status line.
  [[ -n $execs ]] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  [[ -n $eps ]] || eps=$(grep -oE 'exec/s: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  n_corpus=$(find "$corpus" -type f | wc -l)
  crash=$(find "$findings" -name 'crash-*' -o -name 'leak-*' -o -name 'deadly*' | wc -l)
  timeout=$(find "$findings" -name 'timeout-*' -o -name 'slow-unit-*' | wc -l)
  oom=$(find "$findings" -name 'oom-*' | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$h" "$seconds" "${execs:-?}" "${eps:-?}" "$n_corpus" \
    "$crash" "$timeout" "$oom" >>"$results"
  if [[ $((crash + timeout + oom)) -gt 0 || $rc -ne 0 ]]; then
    status=1
    echo "   finding(s) in $findings (rc=$rc), see $log" >&2
    grep -m3 -E 'ERROR: |SUMMARY: |runtime error|fuzz invariant' "$log" | sed 's/^/   /' >&2
  fi
done
echo
{
  printf 'harness\tseconds\texecutions\texec/s\tcorpus\tcrash\ttimeout\toom\n'
  cat "$results"
} | column -t -s $'\t'
exit $status
