#!/usr/bin/env bash
# Footprint: binary size, start-up time to ready and RSS of `savoir serve`,
# idle on an empty data folder and on N chunks (a reproducible corpus of
# sentences sampled from SciFact and PIAF, fixed seed), before and after
# 500 queries. Usage: bench/footprint.sh [SAVOIR_BINARY] [N_DOCS]  (default 100000)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$SRC/build/savoir}")
N=${2:-100000}
DATA="$SRC/../shared/data/beir"
[ -d "$DATA/scifact" ] || { echo "needs ../shared/data/beir" >&2; exit 77; }
. "$SRC/tests/e2e/lib/serve.sh"
WORK=$(mktemp -d)
trap 'savoir_stop >/dev/null 2>&1; rm -rf "$WORK" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"' EXIT
rss() { awk '/VmRSS/ {print $2}' "/proc/$SAVOIR_PID/status"; }
start_timed() {  # starts the server; READY_MS = launch -> listening
  local t0 t1
  t0=$(date +%s%N)
  savoir_start "$BIN" "$1"
  t1=$(date +%s%N)
  READY_MS=$(( (t1 - t0) / 1000000 ))
}

echo "| figure | value |"
echo "|---|---|"
echo "| binary size (build/savoir, with debug info) | $(( $(stat -c %s "$BIN") / 1024 / 1024 )) MB |"
strip -o "$WORK/savoir.stripped" "$BIN" && echo "| binary size, stripped | $(( $(stat -c %s "$WORK/savoir.stripped") / 1024 / 1024 )) MB |"

mkdir -p "$WORK/empty"
start_timed "$WORK/empty"
echo "| start-up to ready, empty data folder | $READY_MS ms |"
echo "| RSS idle, empty | $(rss) kB |"
savoir_stop

"$SRC/bench/make_corpus.sh" "$N" "$WORK/corpus"
# http_search.lua reads one JSON string per line.
python3 -c 'import json, sys
with open(sys.argv[2], "w") as f:
    for line in open(sys.argv[1]):
        f.write(json.dumps(json.loads(line)["text"]) + "\n")' "$WORK/corpus/queries.jsonl" "$WORK/corpus/queries.txt"
t0=$(date +%s%N)
"$BIN" --data "$WORK/data" index --beir "$WORK/corpus" >/dev/null
t1=$(date +%s%N)
echo "| index $N documents (store + index) | $(( (t1 - t0) / 1000000 )) ms |"
echo "| store size | $(( $(stat -c %s "$WORK/data/savoir.db") / 1024 / 1024 )) MB |"
echo "| index size | $(( $(du -sk "$WORK/data/index" | cut -f1) / 1024 )) MB |"
start_timed "$WORK/data"
echo "| start-up to ready, $N documents | $READY_MS ms |"
echo "| RSS after start, $N documents | $(rss) kB |"
SAVOIR_QUERIES="$WORK/corpus/queries.txt" wrk -t1 -c4 -d5s -s "$SRC/bench/http_search.lua" "$SAVOIR_URL" >/dev/null
echo "| RSS after 5 s of queries (wrk, 4 connections) | $(rss) kB |"
