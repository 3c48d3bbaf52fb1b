#!/usr/bin/env bash
# Profiles one phase of Savoir's side of keyword_bench with perf:
#   bench/profile.sh index|query [keyword_bench options...]
# e.g. bench/profile.sh index --corpora large --large-docs 200000
# Writes $OUT/perf-PHASE.data (OUT defaults to /tmp/savoir-bench) and prints
# the top symbols. perf is enabled only while that phase runs (a control FIFO
# the benchmark writes "enable"/"disable" to).
set -euo pipefail
phase=${1:?usage: bench/profile.sh index|query [keyword_bench options]}
shift
BUILD=${BUILD:-build}
OUT=${OUT:-/tmp/savoir-bench}
mkdir -p "$OUT"
ctl=$OUT/perf-ctl.fifo
rm -f "$ctl"; mkfifo "$ctl"
SAVOIR_PERF_CTL=$ctl SAVOIR_PERF_PHASE=$phase \
  perf record ${PERF_ARGS:-} -F ${FREQ:-999} -D -1 --control "fifo:$ctl" -o "$OUT/perf-$phase.data" -- \
  "$BUILD/keyword_bench" --engines savoir "$@" >"$OUT/perf-$phase.log"
rm -f "$ctl"
perf report -i "$OUT/perf-$phase.data" --no-children --sort symbol --stdio 2>/dev/null \
  | grep -E '^ +[0-9]+\.[0-9]+%' | sed -E "s/ {2,}-? *-? *$//" | head -${TOP:-30}
