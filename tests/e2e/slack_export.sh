#!/usr/bin/env bash
# End-to-end: index the real Slack export in ../shared/data/slack-export with
# `savoir source ...`, search it as a workspace member, re-sync (nothing
# changes), delete a day file (its document goes), zip it, remove the source.
# Usage: slack_export.sh <savoir-binary> <source-dir>
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
EXPORT="$SRC/../shared/data/slack-export"
if [ ! -f "$EXPORT/channels.json" ]; then
  echo "skip: $EXPORT is absent (the Slack export tests need ../shared/data)"; exit 77
fi
T=$(mktemp -d /tmp/savoir-e2e-slack-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0; passes=0
ok() { passes=$((passes + 1)); echo "ok   - $1"; }
bad() { fails=$((fails + 1)); echo "FAIL - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
run() { "$BIN" --data "$T/data" "$@"; }
absent() { ! grep -q -- "$1" <<<"$2"; }
cp -r "$EXPORT" "$T/export"

out=$(run source add slack-export --path "$T/export" --name houstondatavis 2>&1)
check "source add slack-export" grep -q "added source 1" <<<"$out"
out=$(run source sync 1 2>&1); rc=$?
check "first sync exits 0" test $rc -eq 0
added=$(sed -nE 's/.*added ([0-9]+),.*/\1/p' <<<"$out")
# Independent count: (channel, day) groups and threads of real messages.
expected=$(python3 - "$T/export" <<'PY'
import json, os, sys
root = sys.argv[1]
noise = {"channel_join", "channel_leave", "channel_archive", "bot_add", "pinned_item"}
groups = set()
for c in json.load(open(os.path.join(root, "channels.json"))):
    d = os.path.join(root, c["name"])
    if not os.path.isdir(d): continue
    for f in os.listdir(d):
        for m in json.load(open(os.path.join(d, f))):
            if m.get("subtype") in noise or not m.get("text"): continue
            groups.add(c["id"] + "/" + (m["thread_ts"] if "thread_ts" in m else f[:-5]))
print(len(groups))
PY
)
check "documents = threads + day groups ($added = $expected)" test "$added" = "$expected"

out=$(run search "census data three-dimensional force layout" --as slack:U061A1R2R --group slack-workspace:houstondatavis --json -k 3)
check "a workspace member finds a phrase from the export" grep -q '"external_id":"C061A2UGJ/2015-06-09"' <<<"$out"
check "markup rendered: links as 'label (url)', no raw <http...>" absent '<http' "$out"
check "permalinks point at the workspace" grep -q 'https://houstondatavis.slack.com/archives/C061A2UGJ/p' <<<"$out"
out=$(run search "census data three-dimensional force layout" --json -k 3)
check "anonymous finds nothing from the workspace" test -z "$out"
out=$(run search "renamed the channel" --group slack-workspace:houstondatavis --json -k 50)
check "mentions render as @display name" grep -q '@Micah Stubbs has renamed the channel' <<<"$out"
check "no raw <@U...> mention is left" absent '<@U' "$out"

out=$(run source sync --all 2>&1)
check "re-sync changes nothing" grep -qE "added 0, updated 0, unchanged $expected, removed 0" <<<"$out"

rm "$T/export/general/2015-06-09.json"
out=$(run source sync 1 2>&1)
check "deleting a day file removes its document" grep -qE "removed 1," <<<"$out"
out=$(run search "census data three-dimensional force layout" --group slack-workspace:houstondatavis --json -k 3)
check "and search no longer finds it" absent 'C061A2UGJ/2015-06-09' "$out"

out=$(run source list)
check "source list shows the document count" grep -qE "^1 +slack-export +houstondatavis +$((expected - 1)) " <<<"$out"

if command -v zip >/dev/null || python3 -c 'import zipfile' 2>/dev/null; then
  (cd "$T/export" && python3 -c 'import zipfile,os,sys
z=zipfile.ZipFile(sys.argv[1],"w")
for d,_,fs in os.walk("."):
    for f in fs: z.write(os.path.join(d,f), os.path.join("export", d, f))' "$T/export.zip")
  run source add slack-export --path "$T/export.zip" --name zipped >/dev/null 2>&1
  out=$(run source sync 2 2>&1)
  check "the zipped export gives the same documents" grep -qE "added $((expected - 1))," <<<"$out"
fi

out=$(run source remove 1 2>&1)
check "source remove" grep -q "removed source 1" <<<"$out"
out=$(run verify 2>&1)
check "store and index agree after removal" grep -q "^ok:" <<<"$out"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
