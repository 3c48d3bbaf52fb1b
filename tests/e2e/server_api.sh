#!/usr/bin/env bash
# End-to-end: the real `savoir serve` on the demo corpus — JSON API contract,
# SSE framing and timing, errors, traversal, concurrency, disconnects, SIGTERM.
# Usage: server_api.sh SAVOIR_BINARY SOURCE_DIR
set -u
BIN=$1
SRC=$2
command -v curl >/dev/null || { echo "curl not installed: skipped"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed: skipped"; exit 77; }
. "$SRC/tests/e2e/lib/serve.sh"

WORK=$(mktemp -d)
trap 'savoir_stop >/dev/null 2>&1; rm -rf "$WORK" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"' EXIT
fail() { echo "FAIL: $*"; [ -n "${SAVOIR_LOG:-}" ] && tail -20 "$SAVOIR_LOG"; exit 1; }

PACE=60
savoir_index_demo "$BIN" "$SRC" "$WORK/data" || fail "indexing the demo corpus"
savoir_start "$BIN" "$WORK/data" --answer-pace-ms $PACE --threads 8 || fail "server start"
echo "server at $SAVOIR_URL"

fds_before=$(ls /proc/$SAVOIR_PID/fd | wc -l)
SAVOIR_PID=$SAVOIR_PID python3 "$SRC/tests/e2e/lib/server_api_checks.py" "$SAVOIR_URL" $PACE || fail "API checks"
# No descriptor leaks from the clients that left mid-stream or the 50 at once
# (kept-alive connections close after --keep-alive-s, 2 s).
sleep 2.5
fds_after=$(ls /proc/$SAVOIR_PID/fd | wc -l)
echo "open descriptors: $fds_before before the checks, $fds_after after"
# The store keeps the read-only connections (database + WAL file each) that
# concurrent requests needed, at most one per server thread (8) plus the
# background refresh and scheduler; a leak of the clients' sockets is 50+.
[ "$fds_after" -le $((fds_before + 2 + 20)) ] || fail "descriptor leak: $fds_before -> $fds_after"

# A 10 MB body: refused with 413 (curl announces it with Expect: 100-continue,
# then again without, when the server must refuse a body already on its way).
head -c 10000000 /dev/zero >"$WORK/big"
for expect in "Expect: 100-continue" "Expect:"; do
  code=$(curl -s -o "$WORK/out" -w '%{http_code}' -H "$expect" -H 'Content-Type: application/json' \
    --data-binary @"$WORK/big" "$SAVOIR_URL/api/search")
  [ "$code" = 413 ] && grep -q '"too_large"' "$WORK/out" || fail "10 MB body ($expect) -> $code $(head -c 200 "$WORK/out")"
done
curl -sf "$SAVOIR_URL/healthz" >/dev/null || fail "server down after the 10 MB body"

# SIGTERM while an answer streams: the stream finishes, then the process exits 0.
curl -sN "$SAVOIR_URL/api/chat" -H 'Content-Type: application/json' \
  -d '{"query":"Combien de jours de congés payés par an ?"}' >"$WORK/stream" &
CURL=$!
for _ in $(seq 1 100); do grep -q '^event: sources' "$WORK/stream" && break; sleep 0.02; done
start=$(date +%s%N)
savoir_stop
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $CURL
[ $rc = 0 ] || fail "exit code after SIGTERM: $rc"
grep -q '^event: done' "$WORK/stream" || fail "in-flight stream was cut by SIGTERM: $(cat "$WORK/stream" | head -c 300)"
[ $ms -lt 5000 ] || fail "SIGTERM took $ms ms"
echo "SIGTERM: exit 0 after $ms ms, in-flight stream completed"
echo "server_api: all checks passed"
