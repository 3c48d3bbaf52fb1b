#!/usr/bin/env bash
# End-to-end: adding, configuring and removing connector sources through the
# HTTP API of a real `savoir serve` (POST/PATCH/DELETE /api/sources), then the
# admin page doing the same in headless Chromium (tests/js/admin.test.mjs).
# A Slack source added with its token syncs from tests/js/fake-slack.mjs; the
# token is sealed in the store and never appears in a response or the log;
# bad input (unknown kind, bad URL, missing token, unknown field, bad
# interval, duplicate name, rename) is refused naming the field, and stores
# nothing; a replaced credential is used by the next sync; removal deletes the
# documents from search at once.
# Usage: sources_api.sh <savoir-binary> <source-dir>
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
command -v node >/dev/null || { echo "skip: node is not installed (the fake Slack server needs it)"; exit 77; }
. "$SRC/tests/e2e/lib/check.sh"
. "$SRC/tests/e2e/lib/serve.sh"
T=$(mktemp -d /tmp/savoir-e2e-srcapi-XXXXXX)
FAKE=""
trap 'savoir_stop >/dev/null 2>&1; [ -n "$FAKE" ] && kill $FAKE 2>/dev/null; rm -rf "$T" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"' EXIT
GOOD=xoxb-api-good-token-4242
python3 - "$T/state.json" "$GOOD" <<'PY'
import json, sys
path, token = sys.argv[1], sys.argv[2]
d = 1699920000
state = {
  "token": token, "domain": "apico", "page_size": 50, "delay_ms": 0,
  "users": [{"id": "U1", "name": "ada", "profile": {"display_name": "ada"}}],
  "channels": [{"id": "C100", "name": "general"}],
  "messages": {"C100": [{"ts": f"{d + 3600}.000100", "user": "U1", "text": "the heliotrope rollout starts monday"}]},
}
json.dump(state, open(path, "w"))
PY
node "$SRC/tests/js/fake-slack.mjs" "$T/state.json" "$T/port" "$T/fake.log" & FAKE=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
SLACK="http://127.0.0.1:$(cat "$T/port")/api"
head -c 32 /dev/urandom | base64 > "$T/key"
export SAVOIR_SECRET_KEY_FILE="$T/key"
"$BIN" --data "$T/data" index "$SRC/demo" >/dev/null || { echo "FAIL: indexing the demo corpus"; exit 1; }
savoir_start "$BIN" "$T/data" --refresh-s 1 || exit 1
echo "server at $SAVOIR_URL"

# api METHOD PATH [BODY] -> prints "STATUS BODY"
api() {
  local out code
  out=$(curl -s -o "$T/resp" -w '%{http_code}' -X "$1" "$SAVOIR_URL$2" -H 'Content-Type: application/json' ${3:+--data-binary "$3"})
  echo "$out $(cat "$T/resp")"
}
nsources() { sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM sources"; }
field() {  # ID EXPR over `s` in GET /api/sources
  curl -s "$SAVOIR_URL/api/sources" | python3 -c '
import json, sys
sid, expr = int(sys.argv[1]), sys.argv[2]
s = next((x for x in json.load(sys.stdin)["sources"] if x["id"] == sid), None)
print(eval(expr))' "$1" "$2"
}
wait_for() {  # SECONDS ID EXPR
  local until=$((SECONDS + $1))
  while [ $SECONDS -lt $until ]; do
    [ "$(field "$2" "$3" 2>/dev/null)" = True ] && return 0
    sleep 0.3
  done
  return 1
}
# matches TEXT PATTERN... : every pattern is in TEXT; lacks TEXT PATTERN...: none is.
matches() { local t=$1; shift; for p in "$@"; do grep -q -- "$p" <<<"$t" || return 1; done; }
lacks() { local t=$1; shift; for p in "$@"; do grep -q -- "$p" <<<"$t" && return 1; done; return 0; }
export -f matches lacks
search() { curl -s -X POST "$SAVOIR_URL/api/search" -H 'Content-Type: application/json' -d "{\"query\": \"$1\", \"k\": 5}"; }

before=$(nsources)
# refused: STATUS FIELD BODY (the error message must start with the field)
refused() {
  local want=$1 fieldname=$2 body=$3 out
  out=$(api POST /api/sources "$body")
  check "refused $want naming '$fieldname': ${out:0:160}" matches "$out" "^$want " "\"message\":\"$fieldname: "
}
refused 400 kind '{"kind": "sharepoint", "name": "x"}'
refused 400 config.url '{"kind": "web", "name": "site", "config": {"url": "ftp://example.com/"}}'
refused 400 config.url '{"kind": "web", "name": "site"}'
refused 400 config.base_url '{"kind": "confluence", "name": "wiki", "config": {"base_url": "wiki.example.com"}, "credential": "t"}'
refused 400 credential "{\"kind\": \"slack\", \"name\": \"acme\", \"config\": {\"api_url\": \"$SLACK\"}}"
refused 400 credential "{\"kind\": \"slack\", \"name\": \"acme\", \"config\": {\"api_url\": \"$SLACK\"}, \"credential\": \"   \"}"
refused 400 credential '{"kind": "web", "name": "site", "config": {"url": "https://example.com/", "auth": "basic"}, "credential": "no-colon"}'
refused 400 config.auth '{"kind": "web", "name": "site", "config": {"url": "https://example.com/", "auth": "basic"}}'
refused 400 config.token_file "{\"kind\": \"slack\", \"name\": \"acme\", \"config\": {\"token_file\": \"/etc/passwd\"}, \"credential\": \"x\"}"
refused 400 config.max_pages '{"kind": "web", "name": "site", "config": {"url": "https://example.com/", "max_pages": "many"}}'
refused 400 config.acl '{"kind": "web", "name": "site", "config": {"url": "https://example.com/", "acl": ["everyone"]}}'
refused 400 interval_min '{"kind": "web", "name": "site", "config": {"url": "https://example.com/"}, "interval_min": -5}'
refused 400 name '{"kind": "web", "name": "my site", "config": {"url": "https://example.com/"}}'
refused 404 config.path '{"kind": "slack-export", "name": "exp", "config": {"path": "/nonexistent/export.zip"}}'
out=$(api POST /api/sources '{"kind": "web"')
check "malformed JSON: 400" grep -q '^400 ' <<<"$out"
check "nothing was stored by the refused requests" test "$(nsources)" = "$before"

out=$(api POST /api/sources "{\"kind\": \"slack\", \"name\": \"apico\", \"config\": {\"api_url\": \"$SLACK\", \"requests_per_minute\": 6000}, \"credential\": \"$GOOD\", \"interval_min\": 30}")
echo "    $out"
check "POST /api/sources adds a Slack source: 201" grep -q '^201 ' <<<"$out"
ID=$(sed 's/^201 //' <<<"$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "the response says credential_set, never the token" bash -c 'matches "$1" "\"credential_set\":true" && lacks "$1" "$2" sb1:' _ "$out" "$GOOD"
check "the token is sealed in the store" bash -c "! grep -aq '$GOOD' '$T/data/savoir.db' && sqlite3 '$T/data/savoir.db' \"SELECT config FROM sources WHERE id = $ID\" | grep -q '\"token\":\"sb1:'"
check "its own interval (30 min)" test "$(field "$ID" 's["interval_min"] == 30 and s["own_interval"]')" = True
out=$(api POST /api/sources "{\"kind\": \"slack\", \"name\": \"apico\", \"config\": {\"api_url\": \"$SLACK\"}, \"credential\": \"$GOOD\"}")
check "the same name again: 409 naming 'name'" matches "$out" '^409 ' '"message":"name: '
check "the server syncs the new source by itself" wait_for 60 "$ID" 's["status"]["last_success"] is not None and s["documents"] == 1'
found=0; for _ in $(seq 20); do search heliotrope | grep -q 'C100/' && { found=1; break; }; sleep 0.5; done
check "its documents are searchable" test $found = 1

# PATCH: interval, bad input, credential replaced.
out=$(api PATCH "/api/sources/$ID" '{"interval_min": 0}')
check "PATCH interval_min 0: 200, manual only" matches "$out" '^200 ' '"interval_min":0'
check "manual only: no next run" test "$(field "$ID" 's["status"]["next_run"] is None')" = True
out=$(api PATCH "/api/sources/$ID" '{"interval_min": 90}')
check "PATCH interval_min 90: next run 90 min after the last attempt" \
  test "$(field "$ID" 's["interval_min"] == 90 and s["status"]["next_run"] is not None and s["status"]["next_run"] > s["status"]["last_attempt"]')" = True
cfg_before=$(sqlite3 "$T/data/savoir.db" "SELECT config FROM sources WHERE id = $ID")
for bad in '{"interval_min": "soon"}:interval_min' '{"name": "renamed"}:name' '{"kind": "web"}:kind' \
           '{"config": {"api_url": "slack.com"}}:config.api_url' '{"config": {"url": "https://x/"}}:config.url' \
           '{"credential": ""}:credential' '{"credential": 42}:credential' '{"colour": "red"}:colour'; do
  out=$(api PATCH "/api/sources/$ID" "${bad%:*}")
  check "PATCH ${bad%:*} refused naming '${bad##*:}'" matches "$out" '^400 ' "\"message\":\"${bad##*:}: "
done
out=$(api PATCH "/api/sources/$ID" '{}')
check "PATCH {} refused: nothing to change" grep -q '^400 .*nothing to change' <<<"$out"
check "the refused PATCHes changed nothing" test "$(sqlite3 "$T/data/savoir.db" "SELECT config FROM sources WHERE id = $ID")" = "$cfg_before"
out=$(api PATCH /api/sources/999 '{"interval_min": 5}')
check "PATCH an unknown source: 404" grep -q '^404 ' <<<"$out"
out=$(api PATCH "/api/sources/$ID" '{"credential": "xoxb-revoked-token"}')
check "PATCH credential: 200, still credential_set, token not echoed" bash -c 'matches "$1" "^200 .*\"credential_set\":true" && lacks "$1" revoked' _ "$out"
last=$(field "$ID" 's["status"]["last_attempt"]'); sleep 1.1
api POST "/api/sources/$ID/sync" "{}" >/dev/null
check "the next sync uses the new (refused) credential" \
  wait_for 60 "$ID" "s['status']['last_attempt'] > '$last' and any('invalid_auth' in e for e in s['status']['errors'])"
check "the documents stay when the credential is refused" test "$(field "$ID" 's["documents"]')" = 1
out=$(api PATCH "/api/sources/$ID" "{\"credential\": \"$GOOD\", \"config\": {\"requests_per_minute\": 3000}}")
check "PATCH credential + config together: 200" grep -q '^200 ' <<<"$out"
last=$(field "$ID" 's["status"]["last_attempt"]'); sleep 1.1
api POST "/api/sources/$ID/sync" "{}" >/dev/null
check "the good credential syncs again" wait_for 60 "$ID" "s['status']['last_attempt'] > '$last' and s['status']['errors'] == []"
check "the new rate is stored, the interval kept" bash -c "sqlite3 '$T/data/savoir.db' \"SELECT config FROM sources WHERE id = $ID\" | grep -q '\"interval_min\":90' && sqlite3 '$T/data/savoir.db' \"SELECT config FROM sources WHERE id = $ID\" | grep -q '\"requests_per_minute\":3000'"

# A web source (never synced: manual only) to remove, and files sources refuse PATCH.
out=$(api POST /api/sources '{"kind": "web", "name": "blog", "config": {"url": "https://blog.example.com/", "feeds": ["https://blog.example.com/feed.xml"], "max_pages": 50, "acl": ["group:staff"]}, "interval_min": 0}')
check "POST a web source: 201, no credential" matches "$out" '^201 ' '"credential_set":false'
WEB=$(sed 's/^201 //' <<<"$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
out=$(api PATCH /api/sources/1 '{"interval_min": 5}')  # the demo folder, from `savoir index`
check "PATCH a files source: 400" grep -q '^400 .*savoir index' <<<"$out"

# DELETE
out=$(api DELETE "/api/sources/$ID")
check "DELETE: 200 with the documents removed" matches "$out" '^200 ' '"documents":1'
check "its documents are gone from search at once" absent 'C100/' "$(search heliotrope)"
check "its row, checkpoint and status are gone" test "$(sqlite3 "$T/data/savoir.db" "SELECT (SELECT count(*) FROM sources WHERE id = $ID) + (SELECT count(*) FROM source_state WHERE source_id = $ID) + (SELECT count(*) FROM documents WHERE source_id = $ID)")" = 0
out=$(api DELETE "/api/sources/$ID")
check "DELETE again: 404" grep -q '^404 ' <<<"$out"
out=$(api DELETE /api/sources/abc)
check "DELETE a malformed id: 400" grep -q '^400 ' <<<"$out"
check "the token never reached the server's log" bash -c "! grep -q 'xoxb' '$SAVOIR_LOG' '$SAVOIR_LOG.out'"

# The admin page, in headless Chromium, against this server.
JS="$SRC/tests/js"
CHROMIUM=${SAVOIR_CHROMIUM:-/usr/bin/chromium}
if [ -d "$JS/node_modules/playwright-core" ] && [ -x "$CHROMIUM" ]; then
  export SAVOIR_URL SAVOIR_CHROMIUM=$CHROMIUM SAVOIR_FAKE_SLACK=$SLACK SAVOIR_FAKE_SLACK_TOKEN=$GOOD SAVOIR_ADMIN_TEST=1
  export SAVOIR_TEST_OUT=${SAVOIR_TEST_OUT:-$PWD/test-output/admin}
  mkdir -p "$SAVOIR_TEST_OUT"
  (cd "$JS" && node --test --test-reporter=spec admin.test.mjs)
  check "the admin page adds, edits and removes sources (admin.test.mjs)" test $? = 0
  check "the browser's token never reached the server's log" bash -c "! grep -q 'xoxb' '$SAVOIR_LOG' '$SAVOIR_LOG.out'"
else
  echo "note: tests/js/node_modules or $CHROMIUM missing: the admin page test is skipped"
fi

savoir_stop
check "the server exits 0 on SIGTERM" test $? = 0
finish
