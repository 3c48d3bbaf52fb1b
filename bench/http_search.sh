#!/usr/bin/env bash
# /api/search throughput and latency of the real server on the demo corpus,
# with wrk at 1, 16 and 100 connections. Prints a Markdown table.
# Usage: bench/http_search.sh [SAVOIR_BINARY] [DURATION_S] [BEIR_DIR]
#   (default build/savoir, 10 s, the demo corpus; with a BEIR folder, e.g.
#   ../shared/data/beir/scifact, its corpus is indexed and its queries are sent)
# Extra server flags can be passed in SAVOIR_SERVE_ARGS (e.g. "--threads 32").
# SAVOIR_BENCH_DATA=DIR keeps the indexed data folder there and reuses it when
# it exists (no re-indexing between runs); SAVOIR_BENCH_CONNS overrides the
# connection counts (default "1 16 100").
# The 100,000-document corpus of the README: bench/make_corpus.sh 100000 DIR.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build/savoir}
DURATION=${2:-10}
BEIR=${3:-}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
. "$SRC/tests/e2e/lib/serve.sh"

WORK=$(mktemp -d)
trap 'savoir_stop >/dev/null 2>&1; rm -rf "$WORK" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"' EXIT
DATA_DIR=${SAVOIR_BENCH_DATA:-$WORK/data}
if [ -n "$BEIR" ]; then
  [ -f "$DATA_DIR/savoir.db" ] || "$BIN" --data "$DATA_DIR" index --beir "$BEIR" >/dev/null
  python3 -c "
import json,sys
for line in open(sys.argv[1]):
    print(json.dumps(json.loads(line)['text'], ensure_ascii=False))" "$BEIR/queries.jsonl" > "$WORK/queries.txt"
  export SAVOIR_QUERIES="$WORK/queries.txt"
  CORPUS="BEIR $(basename "$BEIR")"
else
  [ -f "$DATA_DIR/savoir.db" ] || savoir_index_demo "$BIN" "$SRC" "$DATA_DIR"
  CORPUS="demo corpus"
fi
# shellcheck disable=SC2086
savoir_start "$BIN" "$DATA_DIR" ${SAVOIR_SERVE_ARGS:-}
curl -sf -H 'Content-Type: application/json' -d '{"query":"warm up"}' "$SAVOIR_URL/api/search" >/dev/null

echo "savoir /api/search, $CORPUS, ${DURATION}s per row, $(nproc) cores, server flags: ${SAVOIR_SERVE_ARGS:-(defaults)}"
echo
# Server CPU time (user + sys, from /proc) per request: unlike latencies it
# barely moves when other processes load the machine.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SAVOIR_PID/stat"; }
hz=$(getconf CLK_TCK)
echo "| connections | req/s | p50 ms | p99 ms | errors | server CPU ms/request |"
echo "|---:|---:|---:|---:|---:|---:|"
for c in ${SAVOIR_BENCH_CONNS:-1 16 100}; do
  t=$(( c < 2 ? 1 : 2 ))
  t0=$(cpu_ticks)
  line=$(wrk -t$t -c$c -d${DURATION}s --latency -s "$SRC/bench/http_search.lua" "$SAVOIR_URL" | grep '^RESULT')
  t1=$(cpu_ticks)
  read -r _ rps p50 p99 errors requests <<<"$line"
  cpu=$(awk -v d=$(( t1 - t0 )) -v n="$requests" -v hz="$hz" 'BEGIN { printf "%.3f", n ? d * 1000 / hz / n : 0 }')
  echo "| $c | $rps | $p50 | $p99 | $errors | $cpu |"
done
