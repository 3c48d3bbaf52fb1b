#!/usr/bin/env bash
# End-to-end: a web crawl killed with SIGKILL mid-way resumes to exactly the
# right documents. A generated site of 400 pages (tests/js/fake-site.mjs)
# answers every request 15 ms late; the sync is killed once some batches (50
# pages each, committed with their checkpoint) are stored, then re-run at full
# speed. The source must hold exactly the site's pages, no duplicate, every
# page's marker searchable, `savoir verify` clean, and a further run idle.
# Usage: web_connector_kill.sh <savoir-binary> <source-dir>
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
command -v node >/dev/null || { echo "skip: node is not installed (the fake site needs it)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 is not installed"; exit 77; }
source "$SRC/tests/e2e/lib/check.sh"
T=$(mktemp -d /tmp/savoir-e2e-webkill-XXXXXX)
SERVER=""; SYNC=""
trap '[ -n "$SYNC" ] && kill -9 $SYNC 2>/dev/null; [ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
run() { "$BIN" --data "$T/data" "$@"; }
ndocs() { sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM documents WHERE source_id = 1" 2>/dev/null || echo 0; }
N=400
state() { printf '{"robots": "User-agent: *\\nDisallow: /private/\\n", "generate": %d, "delay_ms": %d, "pages": {"/": {"title": "Home", "body": "<p>Generated site</p><a href=\\"/gen/0\\">start</a>"}}}\n' "$N" "$1" > "$T/state.json.tmp"
         mv "$T/state.json.tmp" "$T/state.json"; }
state 15
node "$SRC/tests/js/fake-site.mjs" "$T/state.json" "$T/port" "$T/log" & SERVER=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
SITE="http://127.0.0.1:$(cat "$T/port")/"
out=$(run source add web --url "$SITE" --max-pages 1000 --rate-per-min 10000000 --name gen 2>&1)
check "source add web" grep -q "added source 1" <<<"$out"

# The binary itself in the background (not the run() function, whose
# subshell would take the SIGKILL while savoir kept running).
"$BIN" --data "$T/data" source sync 1 >"$T/sync1.out" 2>&1 & SYNC=$!
# Kill once at least two batches are committed (polling the store), but well
# before the end (400 pages at >= 15 ms each take > 6 s).
for _ in $(seq 600); do
  [ "$(ndocs)" -ge 100 ] && break
  kill -0 $SYNC 2>/dev/null || break
  sleep 0.05
done
sleep 0.3
kill -9 $SYNC 2>/dev/null; wait $SYNC 2>/dev/null; rc=$?; SYNC=""
check "the sync died of SIGKILL (rc $rc)" test $rc -eq 137
sleep 0.5
mid=$(ndocs)
check "killed mid-way: some documents stored ($mid), not all" test "$mid" -gt 0 -a "$mid" -lt $((N + 1))
check "nothing written after the kill" test "$(ndocs)" = "$mid"

state 0
: > "$T/log"
out=$(run source sync 1 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
check "resumed sync exits 0" test $rc -eq 0
check "exactly $((N + 1)) documents after the resume" test "$(ndocs)" = $((N + 1))
check "no duplicate external ids" test "$(sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM (SELECT external_id FROM documents GROUP BY source_id, external_id HAVING count(*) > 1)")" = 0
st=$(run status 2>&1)
check "savoir status counts $((N + 1)) documents" grep -qE "(^|[^0-9])$((N + 1))([^0-9]|$)" <<<"$st"
# Pages stored before the kill are revalidated (304), not refetched.
check "pages stored before the kill answered 304 on resume" test "$(grep -c ' 304$' "$T/log")" -ge "$mid"
for i in 0 $((N / 2)) $((N - 1)); do
  check "page $i searchable" grep -q "gen/$i\"" <<<"$(run search "gen${i}marker" --json -k 3)"
done
out=$(run verify 2>&1)
check "store and index agree: $out" grep -q '^ok:' <<<"$out"
out=$(run source sync 1 2>&1)
check "a further run changes nothing" grep -qE "added 0, updated 0, unchanged 0, removed 0, errors 0" <<<"$out"
finish
