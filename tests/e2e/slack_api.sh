#!/usr/bin/env bash
# End-to-end: the Slack Web API connector against tests/js/fake-slack.mjs.
# Paging, one 429 (Retry-After: 1) and one 500 retried, an invalid token
# failing its own source only, a deleted message, a membership change, a DM
# and a group DM (members as the access list), an edit and a deletion older
# than the 7-day window picked up by the periodic full re-scan, a token
# without the DM scopes, and a sync killed mid-way that the next run
# completes exactly.
# Usage: slack_api.sh <savoir-binary> <source-dir>
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
command -v node >/dev/null || { echo "skip: node is not installed (the fake Slack server needs it)"; exit 77; }
T=$(mktemp -d /tmp/savoir-e2e-slackapi-XXXXXX)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
fails=0; passes=0
ok() { passes=$((passes + 1)); echo "ok   - $1"; }
bad() { fails=$((fails + 1)); echo "FAIL - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
absent() { ! grep -q -- "$1" <<<"$2"; }
export SAVOIR_SECRET_KEY_FILE="$T/key"
run() { "$BIN" --data "$T/data" "$@"; }
ndocs() { sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM documents WHERE source_id = 1"; }
ids() { sqlite3 "$T/data/savoir.db" "SELECT external_id FROM documents WHERE source_id = 1 ORDER BY 1" | tr '\n' ' '; }
search_as() { local who=$1; shift; run search "$@" --as "slack:$who" --json -k 50; }

# The workspace: 3 UTC days of #general (one thread) and two messages a month
# older, #random with enough messages to need several pages, private #secret
# with members U1, U2, a DM U1-U2 and a group DM U1-U2-U3.
D=1699920000  # 2023-11-14 00:00 UTC
python3 - "$T/state.json" "$D" <<'PY'
import json, sys
path, d = sys.argv[1], int(sys.argv[2])
ts = lambda day, sec: f"{d + day * 86400 + sec}.000{sec % 1000:03d}"
general = [
  {"ts": ts(0, 3600), "user": "U1", "text": "Welcome <@U2>! Read <https://wiki.fakeco.com/start|the wiki> &amp; say hi :wave:"},
  {"ts": ts(0, 7200), "user": "U2", "text": "The quarterly roadmap review is on Thursday"},
  {"ts": ts(1, 3600), "user": "U1", "text": "Deploy freeze starts friday, pelican checklist attached", "thread_ts": ts(1, 3600)},
  {"ts": ts(1, 3700), "user": "U2", "text": "ack, moving the release train", "thread_ts": ts(1, 3600)},
  {"ts": ts(1, 3800), "user": "U3", "text": "what about hotfixes?", "thread_ts": ts(1, 3600)},
  {"ts": ts(2, 100), "user": "U3", "text": "obsolete announcement about parking"},
  {"ts": ts(-30, 100), "user": "U1", "text": "legacy onboarding guide mentions albatross"},
  {"ts": ts(-29, 100), "user": "U2", "text": "old garage rules about herons"},
]
random = [{"ts": ts(day, 60 * i + 1), "user": "U%d" % (1 + i % 3), "text": f"random chatter {day} {i} walrus"}
          for day in range(3) for i in range(4)]
secret = [{"ts": ts(0, 500), "user": "U1", "text": "the acquisition codename is bluefin"}]
dm = [{"ts": ts(1, 900), "user": "U1", "text": "between us, the salary band is kingfisher"},
      {"ts": ts(1, 960), "user": "U2", "text": "noted, kingfisher it is"}]
mpim = [{"ts": ts(2, 900), "user": "U3", "text": "group dm about the surprise party puffin"}]
state = {
  "token": "xoxb-fake-good-token", "domain": "fakeco", "page_size": 2, "delay_ms": 0,
  "users": [{"id": "U1", "name": "ada", "real_name": "Ada Lovelace", "profile": {"display_name": "ada"}},
            {"id": "U2", "name": "bob", "real_name": "Bob Noyce", "profile": {"display_name": ""}},
            {"id": "U3", "name": "cy", "real_name": "", "profile": {}}],
  "channels": [{"id": "C001", "name": "general"}, {"id": "C002", "name": "random"},
               {"id": "G001", "name": "secret", "is_private": True, "members": ["U1", "U2"]},
               {"id": "D001", "is_im": True, "user": "U2", "members": ["U1", "U2"]},
               {"id": "G002", "name": "mpdm-ada--bob--cy-1", "is_mpim": True, "members": ["U1", "U2", "U3"]}],
  "messages": {"C001": general, "C002": random, "G001": secret, "D001": dm, "G002": mpim},
  "faults": [{"method": "conversations.history", "channel": "C002", "status": 429, "retry_after": 1},
             {"method": "conversations.list", "status": 500}],
}
json.dump(state, open(path, "w"), indent=1)
PY
edit_state() { python3 - "$T/state.json" "$1" <<'PY'
import json, sys
path, code = sys.argv[1], sys.argv[2]
s = json.load(open(path)); exec(code)
json.dump(s, open(path + ".tmp", "w"), indent=1)
import os; os.replace(path + ".tmp", path)  # the server never reads a half-written file
PY
}
node "$SRC/tests/js/fake-slack.mjs" "$T/state.json" "$T/port" "$T/log" & SERVER=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
API="http://127.0.0.1:$(cat "$T/port")/api"
echo "xoxb-fake-good-token" > "$T/token"
echo "xoxb-expired" > "$T/bad-token"

out=$(env -u SAVOIR_SECRET_KEY_FILE -u SAVOIR_SECRET_KEY "$BIN" --data "$T/data" source add slack --token-file "$T/token" --name fakeco --api-url "$API" 2>&1); rc=$?
check "no secret key: a clear error" bash -c "[ $rc -eq 1 ] && grep -q 'no secret key configured' <<<'$out'"
head -c 32 /dev/urandom | base64 > "$T/key"
out=$(run source add slack --token-file "$T/token" --name fakeco --api-url "$API" --rate-per-min 6000 2>&1)
check "source add slack" grep -q "added source 1" <<<"$out"
check "the token is not stored in clear" bash -c "! grep -aq 'xoxb-fake-good-token' '$T/data/savoir.db'"

out=$(run source sync 1 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
check "first sync exits 0 despite a 429 and a 500" test $rc -eq 0
check "the 429 was answered and retried" bash -c "grep -q 'conversations.history 429' '$T/log' && [ \$(grep -c 'conversations.history 200' '$T/log') -ge 2 ]"
check "the 500 was retried" bash -c "grep -q 'conversations.list 500' '$T/log' && grep -q 'conversations.list 200' '$T/log'"
check "history was paged (cursor)" bash -c "[ \$(grep -c 'conversations.history 200' '$T/log') -ge 6 ]"
# general: days -30, -29, 0 and 2 + 1 thread; random: 3 days; secret, DM, group DM: 1 day each.
check "documents: threads + day groups (11)" test "$(ndocs)" = 11
expected_ids="C001/1699920000.000800 "
check "thread id is channel/thread_ts" grep -q "C001/$((D + 86400 + 3600)).000600" <<<"$(ids)"

out=$(run search "pelican checklist hotfixes" --group slack-workspace:fakeco --json -k 3)
check "a public thread is found by a workspace member" grep -q "\"external_id\":\"C001/$((D + 86400 + 3600)).000600\"" <<<"$out"
check "permalink from auth.test's domain" grep -q "https://fakeco.slack.com/archives/C001/p$((D + 86400 + 3600))000600" <<<"$out"
out=$(run search "wiki welcome" --group slack-workspace:fakeco --json -k 3)
check "markup rendered (@name, link label (url), &amp;)" grep -q '@Bob Noyce! Read the wiki (https://wiki.fakeco.com/start) & say hi' <<<"$out"
check "private channel visible to member U1" grep -q 'G001/' <<<"$(search_as U1 "acquisition codename bluefin")"
check "private channel hidden from U3" absent 'G001/' "$(search_as U3 "acquisition codename bluefin")"
check "conversations.list asked for DMs and group DMs" grep -q 'conversations.list 200' "$T/log"
out=$(search_as U2 "salary band kingfisher")
check "a DM is found by its member U2" grep -q '"external_id":"D001/' <<<"$out"
check "the DM's title names its members" grep -q '"title":"DM ada, Bob Noyce' <<<"$out"
check "a DM is hidden from U3 and from the workspace group" bash -c "! grep -q 'D001/' <<<'$(search_as U3 "salary band kingfisher")' && ! grep -q 'D001/' <<<'$(run search "salary band kingfisher" --group slack-workspace:fakeco --json)'"
check "a group DM is found by its member U3" grep -q 'G002/' <<<"$(search_as U3 "surprise party puffin")"
check "a group DM is hidden from a non-member" absent 'G002/' "$(run search "surprise party puffin" --as slack:U9 --group slack-workspace:fakeco --json)"

# A second source with a refused token fails alone.
run source add slack --token-file "$T/bad-token" --name expired --api-url "$API" --rate-per-min 6000 --rescan-days 14 >/dev/null
check "--rescan-days is stored with the source" grep -q '"rescan_days":14' <<<"$(sqlite3 "$T/data/savoir.db" "SELECT config FROM sources WHERE name = 'expired'")"
out=$(run source sync --all 2>&1); rc=$?
check "sync --all exits 1 when one source fails" test $rc -eq 1
check "the bad source says invalid_auth" grep -q 'invalid_auth' <<<"$out"
echo "$out" | sed "s|^|    |"
check "the good source still synced (unchanged; the month-old days are outside the window)" grep -qE "source 1 fakeco: .*added 0, updated 0, unchanged 9, removed 0, errors 0" <<<"$out"
out=$(run source list)
check "source list shows the error, not the token" bash -c "grep -q 'invalid_auth' <<<'$out' && ! grep -q 'xoxb' <<<'$out'"

# Changes in Slack: a message deleted (its day group updated), the only
# message of a day deleted (document removed), a message edited, and a
# membership change (U2 out, U3 in).
edit_state "
s['messages']['C001'] = [m for m in s['messages']['C001'] if 'parking' not in m['text'] and 'roadmap' not in m['text']]
s['messages']['C002'][0]['text'] = 'random chatter edited narwhal'; s['messages']['C002'][0]['edited'] = '1700100000.000001'
s['channels'][2]['members'] = ['U1', 'U3']
for m in s['messages']['C001']:
    if 'albatross' in m['text']: m['text'] = 'legacy onboarding guide now mentions condor'; m['edited'] = '1700200000.000001'
s['messages']['C001'] = [m for m in s['messages']['C001'] if 'herons' not in m['text']]"
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "deleted day removed, edits updated" grep -qE "removed 1," <<<"$out"
check "documents now 10" test "$(ndocs)" = 10
check "deleted message no longer found" absent '"external_id"' "$(run search "quarterly roadmap review" --group slack-workspace:fakeco --json)"
check "edited message found by its new text" grep -q 'C002/' <<<"$(run search "narwhal" --group slack-workspace:fakeco --json)"
check "new member U3 now sees the private channel" grep -q 'G001/' <<<"$(search_as U3 "acquisition codename bluefin")"
check "former member U2 no longer does" absent 'G001/' "$(search_as U2 "acquisition codename bluefin")"
# A month-old edit and deletion are outside the 7-day window: the incremental
# run does not see them; the full re-scan (each channel every 7 days) does.
check "a month-old edit is not seen by the incremental run" absent '"external_id"' "$(run search condor --group slack-workspace:fakeco --json)"
# A week passes (for the checkpoint): every channel is due for its re-scan.
python3 - "$T/data/savoir.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cp = json.loads(db.execute("SELECT checkpoint FROM source_state WHERE source_id = 1").fetchone()[0])
for state in cp["channels"].values(): state["full_at"] = 0
db.execute("UPDATE source_state SET checkpoint = ? WHERE source_id = 1", (json.dumps(cp),)); db.commit()
PY
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "the re-scan updates the old edit and removes the old deletion" grep -qE "added 0, updated 1, unchanged [0-9]+, removed 1," <<<"$out"
check "the month-old edit is found by its new text" grep -q "C001/$(date -u -d @$((D - 30 * 86400)) +%F)" <<<"$(run search condor --group slack-workspace:fakeco --json)"
check "the month-old deleted message is gone" absent '"external_id"' "$(run search "garage rules herons" --group slack-workspace:fakeco --json)"
check "documents now 9" test "$(ndocs)" = 9
out=$(run source sync 1 2>&1)
echo "    $out"
check "the run after a re-scan is incremental again (no history from the start)" grep -qE "seen 8, added 0, updated 0, unchanged 8, removed 0" <<<"$out"

# Kill mid-way: slow server, new messages everywhere, kill -9, then resume.
edit_state "
s['delay_ms'] = 150
for c in ['C001', 'C002', 'G001']:
    s['messages'][c].append({'ts': '%d.000900' % ($D + 3*86400 + 600), 'user': 'U1', 'text': 'day four news for ' + c + ' osprey'})"
"$BIN" --data "$T/data" source sync 1 >/dev/null 2>&1 & SYNC=$!  # the binary, not run(): its subshell would take the SIGKILL
sleep 2.5
kill -9 $SYNC 2>/dev/null; wait $SYNC 2>/dev/null
mid=$(ndocs)
edit_state "s['delay_ms'] = 0"
out=$(run source sync 1 2>&1)
check "after kill ($mid docs mid-way) the next run ends with exactly 12 documents" test "$(ndocs)" = 12
check "no duplicate documents" test "$(sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM (SELECT external_id FROM documents GROUP BY source_id, external_id HAVING count(*) > 1)")" = 0
out=$(run verify 2>&1)
check "store and index agree after the kill: $out" grep -q '^ok:' <<<"$out"
out=$(run source sync 1 2>&1)
check "a further run changes nothing" grep -qE "added 0, updated 0, unchanged [0-9]+, removed 0" <<<"$out"
check "new messages searchable" test "$(run search osprey --as slack:U1 --group slack-workspace:fakeco --json | wc -l)" = 3

# The token loses the DM scopes: a clear note, the channels still sync, the
# DMs' documents go (the token can no longer list them).
edit_state "s['no_dm_scope'] = True"
out=$(run source sync 1 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
check "without im:read the sync still succeeds" test $rc -eq 0
check "the missing scope is reported" grep -q 'error: direct messages and group DMs not synced: the token lacks im:read,mpim:read' <<<"$out"
check "the DM documents are removed, the channels' stay (10)" test "$(ndocs)" = 10
check "no DM document left" test "$(sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM documents WHERE external_id LIKE 'D001/%' OR external_id LIKE 'G002/%'")" = 0

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
