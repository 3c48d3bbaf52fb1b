#!/usr/bin/env bash
# End-to-end: connector syncs scheduled inside `savoir serve`. A Slack export
# source is synced by the server on its own (short) interval, shows its status
# in GET /api/sources, syncs again on POST /api/sources/{id}/sync, becomes
# searchable without a restart, and the server exits 0 on SIGTERM. A second,
# broken source fails with its error recorded while the first goes on; a
# manual-only source (--interval-min 0) is left alone.
# Usage: scheduler.sh <savoir-binary> <source-dir>
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
EXPORT="$SRC/../shared/data/slack-export"
if [ ! -f "$EXPORT/channels.json" ]; then
  echo "skip: $EXPORT is absent (the scheduler test needs ../shared/data)"; exit 77
fi
. "$SRC/tests/e2e/lib/check.sh"
. "$SRC/tests/e2e/lib/serve.sh"
T=$(mktemp -d /tmp/savoir-e2e-sched-XXXXXX)
trap 'savoir_stop >/dev/null 2>&1; rm -rf "$T" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"' EXIT
run() { "$BIN" --data "$T/data" "$@"; }
cp -r "$EXPORT" "$T/export"
mkdir -p "$T/broken"
echo '[]' >"$T/broken/channels.json"

out=$(run source add slack-export --path "$T/export" --name houston 2>&1)
check "source add slack-export" grep -q "added source 1" <<<"$out"
run source add slack-export --path "$T/broken" --name broken >/dev/null 2>&1
rm -rf "$T/broken"  # the second source now fails on every run
out=$(run source add slack-export --path "$T/export" --name manual --interval-min 0 2>&1)
check "source add --interval-min 0 (manual only)" grep -q "added source 3" <<<"$out"

# Sources: what GET /api/sources says about one source, as "key=value" lines.
src_field() {  # ID EXPR (python over `s`)
  curl -s "$SAVOIR_URL/api/sources" | python3 -c '
import json, sys
sid, expr = int(sys.argv[1]), sys.argv[2]
s = next(x for x in json.load(sys.stdin)["sources"] if x["id"] == sid)
print(eval(expr))' "$1" "$2"
}
wait_for() {  # SECONDS ID EXPR
  local until=$((SECONDS + $1))
  while [ $SECONDS -lt $until ]; do
    [ "$(src_field "$2" "$3" 2>/dev/null)" = True ] && return 0
    sleep 0.3
  done
  return 1
}

savoir_start "$BIN" "$T/data" --sync-interval-s 3600 --refresh-s 1 || exit 1
echo "server at $SAVOIR_URL"
check "the server syncs a never-synced source by itself" \
  wait_for 120 1 's["status"]["last_success"] is not None and s["documents"] > 0'
check "status: documents seen, next run about an hour later, no errors" \
  test "$(src_field 1 's["status"]["documents_seen"] > 0 and s["status"]["errors"] == [] and s["status"]["next_run"] > s["status"]["last_success"] and s["interval_min"] == 60')" = True
check "the broken source failed with its error recorded" \
  wait_for 30 2 's["status"]["last_attempt"] is not None and s["status"]["last_success"] is None and len(s["status"]["errors"]) > 0'
check "the broken source has its next run too" test "$(src_field 2 's["status"]["next_run"] is not None')" = True
check "a manual-only source is not synced by the scheduler" \
  test "$(src_field 3 's["interval_min"] == 0 and s["status"]["last_attempt"] is None')" = True
body=$(curl -s "$SAVOIR_URL/api/sources")
check "no configuration (path, token) in /api/sources" absent '"config' "$body"
check "nor the export path" absent "$T/export" "$body"

first=$(src_field 1 's["status"]["last_attempt"]')
sleep 1.1  # last_attempt has a one-second resolution
code=$(curl -s -o "$T/post" -w '%{http_code}' -d '' "$SAVOIR_URL/api/sources/1/sync")
check "POST /api/sources/1/sync answers 202 queued" bash -c "[ $code = 202 ] && grep -q '\"status\":\"queued\"' '$T/post'"
check "sync now: last_attempt advances" wait_for 60 1 "s['status']['last_attempt'] > '$first' and not s['syncing'] and not s['queued']"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '' "$SAVOIR_URL/api/sources/99/sync")
check "POST for an unknown source answers 404" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -d '' "$SAVOIR_URL/api/sources/abc/sync")
check "POST for a malformed id answers 400" test "$code" = 400

found=0
for _ in $(seq 1 20); do
  out=$(curl -s -X POST "$SAVOIR_URL/api/search" -H 'Content-Type: application/json' \
    -d '{"query": "census data three-dimensional force layout", "k": 5}')
  grep -q 'C061A2UGJ/2015-06-09\|slack.com/archives/C061A2UGJ' <<<"$out" && { found=1; break; }
  sleep 0.5
done
check "the synced Slack messages are searchable through /api/search" test $found = 1

out=$(run source list)
check "source list shows next run and documents seen" \
  grep -qE '^1 +slack-export +houston +[0-9]+ +[0-9-]+ [0-9:]+ +[0-9-]+ [0-9:]+ +[1-9][0-9]* *$' <<<"$out"
check "source list shows the manual-only source" grep -qE '^3 +slack-export +manual +0 +never +manual ' <<<"$out"
check "source list shows the broken source's error" grep -qE '^2 +slack-export +broken .*never.*(cannot|no such|not)' <<<"$out"

savoir_stop; rc=$?
check "SIGTERM: the server exits 0" test $rc -eq 0
check "the server log names the syncs" grep -q "synced source 1 houston" "$SAVOIR_LOG"
finish
