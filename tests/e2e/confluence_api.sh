#!/usr/bin/env bash
# End-to-end: the Confluence REST connector against tests/js/fake-confluence.mjs.
# Two spaces (space listing and search paged), a page with headings, a table
# and a code macro under two ancestors, a restricted page and a child that
# inherits it, a blog post, one 429 (Retry-After: 1), an expired token
# (401) failing its own source only, then an edit (version bump), a deleted
# page and a restriction change on a parent picked up by the next sync, an
# archived restricted ancestor, a sync killed mid-way that the next run
# completes exactly, then attachments (a PDF and a DOCX generated here, a
# text file on the restricted page, an image that is skipped): indexed with
# their page's access list, not downloaded again when unchanged, re-read on
# a new version, deleted when removed; then footer comments (a reply, an
# inline comment left out, a restricted page's), rebuilt on an edit, deleted
# with the last comment.
# Usage: confluence_api.sh <savoir-binary> <source-dir>
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
command -v node >/dev/null || { echo "skip: node is not installed (the fake Confluence needs it)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 is not installed"; exit 77; }
source "$SRC/tests/e2e/lib/check.sh"
T=$(mktemp -d /tmp/savoir-e2e-confluence-XXXXXX)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
export SAVOIR_SECRET_KEY_FILE="$T/key"
head -c 32 /dev/urandom | base64 > "$T/key"
run() { "$BIN" --data "$T/data" "$@"; }
ndocs() { sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM documents WHERE source_id = ${1:-1}"; }
found() { local id=$1; shift; grep -q "\"external_id\":\"$id\"" <<<"$(run search "$@" --json -k 20)"; }

python3 - "$T/state.json" <<'PY'
import json, sys
W = "2024-01-01T08:00:00.000Z"
def page(id, space, title, body, parent=None, **kw):
    d = {"id": id, "space": space, "type": "page", "title": title, "parent": parent, "version": 1,
         "when": W, "author": "Ada Lovelace", "labels": [], "body": body}
    d.update(kw); return d
deploy = ('<h1>Deploy pelican service</h1><p>Ship the pelican build on Fridays&nbsp;&mdash; never on holidays.</p>'
  '<ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">2</ac:parameter></ac:structured-macro>'
  '<h2>Hosts</h2><table><tbody><tr><th>Host</th><th>Role</th></tr><tr><td>db-osprey-1</td><td>primary</td></tr></tbody></table>'
  '<h2>Commands</h2><ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter>'
  '<ac:plain-text-body><![CDATA[kubectl rollout restart deploy/pelican && echo "<ok>"]]></ac:plain-text-body></ac:structured-macro>')
state = {
  "email": "bot@acme.test", "token": "cloud-api-token", "pat": "dc-pat-token",
  "page_size": 2, "space_page_size": 1,
  "spaces": [{"key": "ENG", "name": "Engineering"}, {"key": "HR", "name": "People"}],
  "content": [
    page("100", "ENG", "Engineering", "<p>Engineering home</p>"),
    page("101", "ENG", "Runbooks", "<p>All runbooks live here</p>", "100"),
    page("102", "ENG", "Deploy runbook", deploy, "101", labels=["ops", "deploy"]),
    page("103", "ENG", "Payroll secrets", "<p>The payroll vendor is bluefin</p>", "100",
         users=["u-ada"], groups=["finance"]),
    page("104", "ENG", "Salary bands", "<p>Salary bands for the walrus team</p>", "103"),
    page("106", "ENG", "Parking", "<p>Obsolete parking lottery rules</p>", "100"),
    {"id": "105", "space": "ENG", "type": "blogpost", "title": "Quarterly kudos", "version": 1,
     "when": "2024-01-15T10:30:00.000Z",
     "author": "Bob", "labels": [], "body": "<p>Kudos to the narwhal squad</p>"},
    page("150", "ENG", "Board (archived)", "<p>old board notes</p>", "100", groups=["board"], archived=True),
    page("151", "ENG", "Board minutes", "<p>Board minutes about the heron merger</p>", "150"),
    page("200", "HR", "Holiday policy", "<p>Twenty-five days of holiday per year</p>"),
  ],
  "faults": [{"path": "search", "status": 429, "retry_after": 1}],
}
json.dump(state, open(sys.argv[1], "w"), indent=1)
PY
edit_state() { python3 - "$T/state.json" "$1" <<'PY'
import json, os, sys
path, code = sys.argv[1], sys.argv[2]
s = json.load(open(path)); byid = {c["id"]: c for c in s["content"]}; exec(code)
json.dump(s, open(path + ".tmp", "w"), indent=1); os.replace(path + ".tmp", path)
PY
}
node "$SRC/tests/js/fake-confluence.mjs" "$T/state.json" "$T/port" "$T/log" & SERVER=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
BASE="http://127.0.0.1:$(cat "$T/port")/wiki"
echo "cloud-api-token" > "$T/token"
echo "dc-pat-token" > "$T/pat"
echo "expired-token" > "$T/expired"

out=$(run source add confluence --name acme 2>&1)
check "source add confluence needs --token-file / --base-url" grep -q 'needs --' <<<"$out"
out=$(run source add confluence --base-url "$BASE" --user bot@acme.test --token-file "$T/token" --name acme \
      --rate-per-min 6000 2>&1)
check "source add confluence (Cloud: e-mail + API token)" grep -q "added source 1" <<<"$out"
check "the token is not stored in clear" bash -c "! grep -aq 'cloud-api-token' '$T/data/savoir.db'"

out=$(run source sync 1 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
check "first sync exits 0 despite a 429" test $rc -eq 0
check "the 429 was answered and retried" bash -c "grep -q 'search 429' '$T/log' && grep -q 'search 200' '$T/log'"
check "spaces were paged (1 per page)" test "$(grep -c 'space 200' "$T/log")" -ge 2
check "search results were paged" test "$(grep -c 'search 200' "$T/log")" -ge 8
check "9 documents (8 ENG pages and posts, 1 HR)" test "$(ndocs)" = 9

out=$(run search "pelican fridays" --group confluence-space:ENG --json -k 3)
check "a page is found by a space member" grep -q '"external_id":"ENG/102"' <<<"$out"
check "URL from _links.base + webui" grep -q "\"url\":\"$BASE/spaces/ENG/pages/102\"" <<<"$out"
check "ancestors prefix the heading path" grep -q '"heading_path":"Engineering > Runbooks > Deploy pelican service' <<<"$out"
check "entities decoded, macro parameters dropped" bash -c "grep -q 'Fridays — never' <<<'$out' && ! grep -q maxLevel <<<'$out'"
check "the code macro's body is searchable" found ENG/102 "kubectl rollout restart" --group confluence-space:ENG
check "table cells are searchable" found ENG/102 "osprey primary" --group confluence-space:ENG
check "the blog post is indexed" found ENG/105 "narwhal kudos" --group confluence-space:ENG
check "HR space page for HR members" found HR/200 "holiday policy" --group confluence-space:HR
check "HR page hidden from ENG members" bash -c "! grep -q '\"external_id\":\"HR/200\"' <<<\"\$('$BIN' --data '$T/data' search 'holiday policy' --group confluence-space:ENG --json)\""
check "restricted page: allowed user" found ENG/103 "payroll vendor bluefin" --as confluence:u-ada
check "restricted page: allowed group" found ENG/103 "payroll vendor bluefin" --group confluence:finance
check "restricted page: hidden from the space" bash -c "! grep -q 'ENG/103' <<<\"\$('$BIN' --data '$T/data' search 'payroll vendor bluefin' --group confluence-space:ENG --json)\""
check "child inherits the restriction (allowed)" found ENG/104 "salary bands walrus" --as confluence:u-ada
check "child inherits the restriction (denied)" bash -c "! grep -q 'ENG/104' <<<\"\$('$BIN' --data '$T/data' search 'salary bands walrus' --as confluence:u-bob --group confluence-space:ENG --json)\""
check "restriction of an archived (unlisted) ancestor applies (allowed)" found ENG/151 "heron merger" --group confluence:board
check "restriction of an archived (unlisted) ancestor applies (denied)" bash -c "! grep -q 'ENG/151' <<<\"\$('$BIN' --data '$T/data' search 'heron merger' --group confluence-space:ENG --json)\""
meta=$(sqlite3 "$T/data/savoir.db" "SELECT metadata FROM documents WHERE external_id = 'ENG/102'")
check "labels and version in metadata" bash -c "grep -q '\"labels\":\\[\"ops\",\"deploy\"\\]' <<<'$meta' && grep -q '\"version\":1' <<<'$meta'"

out=$(run source sync 1 2>&1)
check "re-sync of an unchanged site writes nothing" grep -qE "added 0, updated 0, unchanged 0, removed 0, errors 0" <<<"$out"
check "re-sync fetched no page by id (only the archived ancestor's restrictions)" \
  test "$(grep -c 'content 200' "$T/log")" = 2

# An expired token fails its own source only (Data Center style bearer).
run source add confluence --base-url "$BASE" --token-file "$T/expired" --name expired --rate-per-min 6000 >/dev/null
out=$(run source sync --all 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
check "sync --all exits 1 when one source fails" test $rc -eq 1
check "the expired source says HTTP 401 clearly" grep -q 'Confluence refused the credentials (HTTP 401)' <<<"$out"
check "the good source still synced" grep -qE "source 1 acme: .*removed 0, errors 0" <<<"$out"
out=$(run source list)
check "source list shows the error, not the token" bash -c "grep -q 'HTTP 401' <<<'$out' && ! grep -q 'expired-token' <<<'$out'"
# A Data Center personal access token, one space.
run source add confluence --base-url "$BASE" --token-file "$T/pat" --space HR --name dc --rate-per-min 6000 >/dev/null
out=$(run source sync 3 2>&1)
check "bearer PAT + --space HR: only HR's page" bash -c "grep -q 'added 1,' <<<'$out' && [ \$(sqlite3 '$T/data/savoir.db' 'SELECT count(*) FROM documents WHERE source_id = 3') = 1 ]"

# Changes: page 102 edited (version 2), page 106 deleted, u-bob added to 103's restriction.
edit_state "
byid['102'].update(version=2, when='2024-02-01T09:00:00.000Z', body='<h1>Deploy pelican service</h1><p>Now deploy with the albatross pipeline.</p>')
s['content'] = [c for c in s['content'] if c['id'] != '106']
byid['103']['users'] = ['u-ada', 'u-bob']"
: > "$T/log"
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "edit, restriction change and deletion picked up" grep -qE "added 0, updated 3, unchanged 0, removed 1, errors 0" <<<"$out"
check "documents now 8" test "$(ndocs)" = 8
check "edited page found by its new text" found ENG/102 "albatross pipeline" --group confluence-space:ENG
check "old text gone" bash -c "! grep -q 'ENG/102' <<<\"\$('$BIN' --data '$T/data' search 'kubectl rollout' --group confluence-space:ENG --json)\""
check "deleted page gone" bash -c "! grep -q 'ENG/106' <<<\"\$('$BIN' --data '$T/data' search 'parking lottery' --group confluence-space:ENG --json)\""
check "restriction change reaches the child (u-bob now allowed)" found ENG/104 "salary bands walrus" --as confluence:u-bob
check "unchanged-version pages refetched by id only for the ACL change (+1 archived ancestor)" \
  test "$(grep -c 'content 200' "$T/log")" = 3
# Kill mid-way: a slow server, a new page in each space, kill -9, then resume.
edit_state "
s['delay_ms'] = 150
s['content'] += [dict(byid['200'], id='201', title='Osprey HR news', body='<p>osprey news for people</p>', when='2024-03-01T00:00:00.000Z'),
                 dict(byid['101'], id='108', title='Osprey ENG news', body='<p>osprey news for engineers</p>', when='2024-03-01T00:00:00.000Z')]"
"$BIN" --data "$T/data" source sync 1 >/dev/null 2>&1 & SYNC=$!  # the binary, not run(): its subshell would take the SIGKILL
sleep 1.5
kill -9 $SYNC 2>/dev/null; wait $SYNC 2>/dev/null
mid=$(ndocs)
edit_state "s['delay_ms'] = 0"
out=$(run source sync 1 2>&1)
check "after kill ($mid docs mid-way) the next run ends with exactly 10 documents" test "$(ndocs)" = 10
check "no duplicate documents" test "$(sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM (SELECT external_id FROM documents GROUP BY source_id, external_id HAVING count(*) > 1)")" = 0
check "both new pages searchable" test "$(run search osprey --group confluence-space:ENG --group confluence-space:HR --json | grep -c '"external_id":"\(ENG/108\|HR/201\)"')" = 2
out=$(run verify 2>&1)
check "store and index agree: $out" grep -q '^ok:' <<<"$out"
out=$(run source sync 1 2>&1)
check "a further run changes nothing" grep -qE "added 0, updated 0, unchanged 0, removed 0" <<<"$out"
# Attachments: a PDF and a DOCX on page 102, an image (skipped), a text file on restricted page 103.
python3 - "$T" <<'PY'
import sys, zipfile
d = sys.argv[1]
def pdf(path, text):
    stream = b"BT /F1 12 Tf 72 720 Td (" + text.encode() + b") Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n"); offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out)); out += str(i).encode() + b" 0 obj\n" + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs: out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    open(path, "wb").write(out)
def docx(path, text):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>' + text + '</w:t></w:r></w:p></w:body></w:document>')
pdf(d + "/guide1.pdf", "The cormorant checklist comes before every pelican deploy.")
pdf(d + "/guide2.pdf", "The pelican guide now requires a grebe sign-off.")
docx(d + "/rota.docx", "The flamingo rota lists who is on call each week.")
open(d + "/photo.png", "wb").write(b"\x89PNG\r\n\x1a\nnot really an image")
open(d + "/payroll.txt", "w").write("The ibis payroll calendar closes on the 20th.\n")
PY
edit_state "
byid['102']['attachments'] = [
  dict(id='att1', title='pelican-guide.pdf', mediaType='application/pdf', version=1, file='$T/guide1.pdf'),
  dict(id='att2', title='on-call rota.docx', mediaType='application/vnd.openxmlformats-officedocument.wordprocessingml.document', version=1, file='$T/rota.docx'),
  dict(id='att3', title='photo.png', mediaType='image/png', version=1, file='$T/photo.png')]
byid['103']['attachments'] = [dict(id='att4', title='payroll.txt', mediaType='text/plain', version=1, file='$T/payroll.txt')]"
: > "$T/log"
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "attachments: 3 added (PDF, DOCX, text; the image skipped)" grep -qE "added 3, updated 0, unchanged 0, removed 0, errors 0" <<<"$out"
check "attachments: 13 documents" test "$(ndocs)" = 13
check "attachments listed for every page" test "$(grep -c '^attachment 200' "$T/log")" -ge 10
check "the image was not downloaded" bash -c "! grep -q 'download 200 photo.png' '$T/log'"
out=$(run search "cormorant checklist" --group confluence-space:ENG --json -k 3)
check "PDF attachment text found (id SPACE/page/att/id)" grep -q '"external_id":"ENG/102/att/att1"' <<<"$out"
check "attachment title is 'page › file'" grep -q '"title":"Deploy runbook › pelican-guide.pdf"' <<<"$out"
check "attachment URL is the download link" grep -q "\"url\":\"$BASE/download/attachments/102/pelican-guide.pdf?version=1" <<<"$out"
check "DOCX attachment text found" found ENG/102/att/att2 "flamingo rota on call" --group confluence-space:ENG
check "restricted page's attachment: allowed user" found ENG/103/att/att4 "ibis payroll calendar" --as confluence:u-ada
check "restricted page's attachment: allowed group" found ENG/103/att/att4 "ibis payroll calendar" --group confluence:finance
check "restricted page's attachment: hidden from the space" bash -c "! grep -q 'att4' <<<\"\$('$BIN' --data '$T/data' search 'ibis payroll calendar' --group confluence-space:ENG --json)\""
: > "$T/log"
out=$(run source sync 1 2>&1)
check "re-sync: unchanged attachments write nothing" grep -qE "added 0, updated 0, unchanged 0, removed 0, errors 0" <<<"$out"
check "re-sync: nothing downloaded" test "$(grep -c '^download' "$T/log")" = 0
# A new version of the PDF, the DOCX removed, page 103's restriction narrowed to u-ada.
edit_state "
byid['102']['attachments'] = [dict(byid['102']['attachments'][0], version=2, file='$T/guide2.pdf'), byid['102']['attachments'][2]]
byid['103']['users'] = ['u-ada']"
: > "$T/log"
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "new version re-read, removed attachment deleted" grep -qE "updated [1-9][0-9]*, unchanged 0, removed 1, errors 0" <<<"$out"
check "only the new version downloaded" test "$(grep -c '^download' "$T/log")" = 1
check "the PDF's new text is found" found ENG/102/att/att1 "grebe sign-off" --group confluence-space:ENG
check "the removed DOCX is gone" bash -c "! grep -q 'att2' <<<\"\$('$BIN' --data '$T/data' search 'flamingo rota' --group confluence-space:ENG --json)\""
check "the page's access change reaches its attachment (u-bob out)" bash -c "! grep -q 'att4' <<<\"\$('$BIN' --data '$T/data' search 'ibis payroll calendar' --as confluence:u-bob --json)\""
check "u-ada still reads it" found ENG/103/att/att4 "ibis payroll calendar" --as confluence:u-ada
out=$(run verify 2>&1)
check "store and index agree after attachments: $out" grep -q '^ok:' <<<"$out"

# Footer comments: three on page 102 (one a reply, so two pages of comments),
# an inline comment (not indexed), one on restricted page 103.
edit_state "
byid['102']['comments'] = [
  dict(id='c1', author='Ada Lovelace', when='2024-03-02T10:00:00.000Z', version=1, body='<p>Remember the <b>kestrel</b> dry-run before deploying.</p>'),
  dict(id='c2', author='Bob', when='2024-03-02T11:00:00.000Z', version=1, body='<p>kestrel done for March</p>', parent='c1'),
  dict(id='c3', author='Cy', when='2024-03-03T09:00:00.000Z', version=1, body='<p>Also check the dashboards.</p>'),
  dict(id='c4', author='Cy', when='2024-03-03T09:30:00.000Z', version=1, body='<p>inline note about magpie</p>', location='inline')]
byid['103']['comments'] = [dict(id='c9', author='Ada Lovelace', when='2024-03-04T09:00:00.000Z', version=1, body='<p>payroll comment about the lapwing deadline</p>')]"
: > "$T/log"
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "comments: one document per commented page (2 added)" grep -qE "added 2, updated 0, unchanged 0, removed 0, errors 0" <<<"$out"
check "comments were listed for every page, paged" test "$(grep -c '^comment 200' "$T/log")" -ge 11
out=$(run search "kestrel dry-run" --group confluence-space:ENG --json -k 3)
check "a footer comment is found (id SPACE/page/comments)" grep -q '"external_id":"ENG/102/comments"' <<<"$out"
check "comments title is 'page › comments'" grep -q '"title":"Deploy runbook › comments"' <<<"$out"
check "comments URL is the page's" grep -q "\"url\":\"$BASE/spaces/ENG/pages/102\"" <<<"$out"
text=$(sqlite3 "$T/data/savoir.db" "SELECT content FROM documents WHERE external_id = 'ENG/102/comments'")
check "each comment a paragraph 'Author (day): text', replies included, oldest first" \
  bash -c 'grep -q "^Ada Lovelace (2024-03-02): Remember the kestrel dry-run before deploying." <<<"$1" && grep -q "^Bob (2024-03-02): kestrel done for March" <<<"$1" && [ "$(grep -n "^Cy" <<<"$1" | cut -d: -f1)" -gt "$(grep -n "^Bob" <<<"$1" | cut -d: -f1)" ]' _ "$text"
check "inline comments are not indexed" absent magpie "$text"
check "a restricted page's comments: allowed user" found ENG/103/comments "lapwing deadline" --as confluence:u-ada
check "a restricted page's comments: hidden from the space" bash -c "! grep -q 'ENG/103/comments' <<<\"\$('$BIN' --data '$T/data' search 'lapwing deadline' --group confluence-space:ENG --json)\""
out=$(run source sync 1 2>&1)
check "re-sync: unchanged comments write nothing" grep -qE "added 0, updated 0, unchanged 0, removed 0, errors 0" <<<"$out"
# A comment edited (version 2), the restricted page's only comment deleted.
edit_state "
byid['102']['comments'][0].update(version=2, body='<p>Remember the kestrel and merlin dry-runs before deploying.</p>')
byid['103']['comments'] = []"
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "edited comment rebuilds the page's comments, the last one deleted removes them" grep -qE "added 0, updated 1, unchanged 0, removed 1, errors 0" <<<"$out"
check "the edited comment is found by its new text" found ENG/102/comments "merlin dry-runs" --group confluence-space:ENG
check "the deleted comment is gone" bash -c "! grep -q 'ENG/103/comments' <<<\"\$('$BIN' --data '$T/data' search 'lapwing deadline' --as confluence:u-ada --json)\""
out=$(run verify 2>&1)
check "store and index agree after comments: $out" grep -q '^ok:' <<<"$out"
finish
