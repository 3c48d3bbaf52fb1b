#!/usr/bin/env bash
# Soak: mixed indexing and queries against one server for a bounded time.
# A writer re-indexes a changing copy of the demo corpus every few seconds
# (edits, additions, removals) while wrk sends /api/search; the server's RSS
# is sampled. Passes when wrk saw no errors, every index run succeeded, the
# store and index verify, and RSS did not keep growing.
# Usage: bench/soak.sh [SAVOIR_BINARY] [SECONDS]   (default build/savoir, 120 s)
# With SOAK_VECTORS=1 the server also embeds (local llama.cpp, the tiny
# random-weight BERT of tests/models) what the writer stores, so its vector
# index churns: its commits start compactions in the background, which its
# refreshes adopt while it serves; the run then also checks that the vectors
# caught up with the store and that compactions happened.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$SRC/build/savoir}")
SECONDS_TOTAL=${2:-120}
VECTORS=${SOAK_VECTORS:-0}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
. "$SRC/tests/e2e/lib/serve.sh"
WORK=$(mktemp -d)
trap 'kill $WRITER $WRK 2>/dev/null; savoir_stop >/dev/null 2>&1; rm -rf "$WORK" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"' EXIT
cp -r "$SRC/demo" "$WORK/corpus"
# With vectors, chunks of at most 120 words (the tiny BERT's context is 512 tokens).
CHUNKS=()
EMB=()
if [ "$VECTORS" = 1 ]; then
  CHUNKS=(--chunk-tokens 120)
  bash "$SRC/tests/models/make-tiny-models.sh" "$WORK/models" >/dev/null
  EMB=(--embedder llama --embed-model "$WORK/models/tiny-bert.gguf")
fi
"$BIN" --data "$WORK/data" ${CHUNKS[@]+"${CHUNKS[@]}"} index "$WORK/corpus" >/dev/null
savoir_start "$BIN" "$WORK/data" --refresh-s 1 ${EMB[@]+"${EMB[@]}"}
rss() { awk '/VmRSS/ {print $2}' "/proc/$SAVOIR_PID/status"; }

# Writer: every 3 s, edit a file, add one, remove an older one, re-index.
(
  i=0; failures=0
  while true; do
    i=$((i + 1))
    echo "Révision $i : la procédure change encore." >> "$WORK/corpus/handbook/conges-payes.md"
    printf '# Note %d\n\nNote de service numéro %d sur les astreintes et les congés.\n' $i $i > "$WORK/corpus/note-$i.md"
    rm -f "$WORK/corpus/note-$((i - 5)).md"
    "$BIN" --data "$WORK/data" ${CHUNKS[@]+"${CHUNKS[@]}"} index "$WORK/corpus" >/dev/null 2>>"$WORK/writer.err" || failures=$((failures + 1))
    echo "$i $failures" > "$WORK/writer.state"
    sleep 3
  done
) &
WRITER=$!

wrk -t2 -c16 -d"${SECONDS_TOTAL}s" --latency -s "$SRC/bench/http_search.lua" "$SAVOIR_URL" > "$WORK/wrk.out" &
WRK=$!
echo "| t (s) | server RSS (kB) | index runs |"
echo "|---:|---:|---:|"
samples=()
for t in $(seq 10 10 "$SECONDS_TOTAL"); do
  sleep 10
  r=$(rss); samples+=("$r")
  echo "| $t | $r | $(cut -d' ' -f1 "$WORK/writer.state" 2>/dev/null || echo 0) |"
done
wait $WRK || true
kill $WRITER 2>/dev/null; wait $WRITER 2>/dev/null || true
read -r _ rps p50 p99 errors requests <<<"$(grep '^RESULT' "$WORK/wrk.out")"
read -r runs failures <<<"$(cat "$WORK/writer.state")"
echo
echo "queries: $requests at $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $errors"
echo "index runs: $runs, failed $failures"
sleep 2
verify=$("$BIN" --data "$WORK/data" verify 2>&1) || true
echo "verify: $verify"
vectors_ok=1
if [ "$VECTORS" = 1 ]; then
  # The server embeds what the last index run stored at its next refreshes.
  for _ in $(seq 1 60); do
    status=$("$BIN" --data "$WORK/data" "${EMB[@]}" status 2>&1) || true
    grep -qE "vectors +[1-9][0-9]* of model .*, 0 change\(s\) pending" <<<"$status" && break
    sleep 1
  done
  echo "vectors: $(grep -E '^ *vectors' <<<"$status" | head -1)"
  grep -qE "vectors +[1-9][0-9]* of model .*, 0 change\(s\) pending" <<<"$status" || vectors_ok=0
  # Each adopted compaction starts a new epoch of the vector files.
  epoch=$(ls "$WORK"/data/vectors/*/index/ | sed -n 's/^vectors-\([0-9]*\)\.dat$/\1/p' | sort -n | tail -1)
  echo "vector index epoch: ${epoch:-none} (compactions adopted: $(( ${epoch:-1} - 1 )))"
  [ "${epoch:-1}" -gt 1 ] || vectors_ok=0
  grep -i "vector index refresh failed" "$SAVOIR_LOG" && vectors_ok=0
fi
# RSS flat: the last third's mean within 20 % of the middle third's.
n=${#samples[@]}; a=$((n / 3)); b=$((2 * n / 3))
mid=0; last=0
for ((k = a; k < b; k++)); do mid=$((mid + samples[k])); done
for ((k = b; k < n; k++)); do last=$((last + samples[k])); done
mid=$((mid / (b - a > 0 ? b - a : 1))); last=$((last / (n - b > 0 ? n - b : 1)))
echo "RSS middle third $mid kB, last third $last kB"
ok=1
[ "$errors" = 0 ] || ok=0
[ "$failures" = 0 ] || ok=0
grep -q '^ok:' <<<"$verify" || ok=0
[ $vectors_ok = 1 ] || ok=0
[ "$last" -le $((mid * 120 / 100)) ] || ok=0
[ $ok = 1 ] && echo "soak: PASS" || { echo "soak: FAIL"; exit 1; }
