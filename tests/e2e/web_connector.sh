#!/usr/bin/env bash
# End-to-end: the web connector against tests/js/fake-site.mjs. A crawl that
# obeys robots.txt, keeps main content only (no navigation, cookie banner or
# footer), stores a canonical duplicate once, survives a 429 (Retry-After),
# re-syncs through 304s, and deletes a page that disappeared; then a second
# source from a sitemap index + RSS feed readable by one group only.
# Usage: web_connector.sh <savoir-binary> <source-dir>
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
command -v node >/dev/null || { echo "skip: node is not installed (the fake site needs it)"; exit 77; }
source "$SRC/tests/e2e/lib/check.sh"
T=$(mktemp -d /tmp/savoir-e2e-web-XXXXXX)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
run() { "$BIN" --data "$T/data" "$@"; }
ndocs() { sqlite3 "$T/data/savoir.db" "SELECT count(*) FROM documents WHERE source_id = $1"; }
found() { run search "$1" --json -k 10 "${@:2}" | grep -o '"external_id":"[^"]*"' | tr '\n' ' '; }
edit_state() { python3 - "$T/state.json" "$1" <<'PY'
import json, os, sys
path, code = sys.argv[1], sys.argv[2]
s = json.load(open(path)); exec(code)
json.dump(s, open(path + ".tmp", "w"), indent=1)
os.replace(path + ".tmp", path)
PY
}

cat > "$T/state.json" <<'JSON'
{
  "robots": "User-agent: *\nDisallow: /private/\n\nUser-agent: badbot\nDisallow: /\n",
  "pages": {
    "/": {"title": "Acme intranet", "body": "<h1>Welcome</h1><p>Start with the <a href='/docs/handbook'>handbook</a>, the <a href='/docs/handbook-print'>printable handbook</a> or the <a href='/blog/'>blog</a>.</p>"},
    "/docs/handbook": {"title": "Onboarding handbook", "body": "<h1>Onboarding handbook</h1><p>Every new employee follows the heliotrope procedure during the first week.</p><p>See the <a href='/docs/expenses'>expense policy</a>.</p>"},
    "/docs/handbook-print": {"title": "Onboarding handbook (print)", "canonical": "/docs/handbook", "body": "<h1>Onboarding handbook</h1><p>Every new employee follows the heliotrope procedure during the first week.</p>"},
    "/docs/expenses": {"title": "Expense policy", "body": "<h1>Expense policy</h1><p>Kumquat reimbursements are paid within thirty days.</p>"},
    "/private/salaries": {"title": "Salary grid", "body": "<p>The confidential quokka salary grid.</p>"},
    "/blog/": {"title": "Blog", "body": "<ul><li><a href='/blog/retro'>Retrospective</a></li><li><a href='/blog/parking'>Parking</a></li></ul>"},
    "/blog/retro": {"title": "Release retrospective", "blog": true, "body": "<h1>Release retrospective</h1><p>The tangerine migration finished two days early.</p>"},
    "/blog/parking": {"title": "Parking policy", "blog": true, "body": "<h1>Parking policy</h1><p>Albatross spaces are reserved for car pools.</p>"}
  },
  "faults": [{"path": "/docs/expenses", "status": 429, "retry_after": 1}]
}
JSON
node "$SRC/tests/js/fake-site.mjs" "$T/state.json" "$T/port" "$T/log" & SERVER=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
SITE="http://127.0.0.1:$(cat "$T/port")"

out=$(run source add web --name acme-site 2>&1)
check "source add web without --url: a clear error" grep -q 'needs --url' <<<"$out"
out=$(run source add web --url "$SITE/" --name acme-site --rate-per-min 100000 2>&1)
check "source add web (crawl)" grep -q "added source 1" <<<"$out"

out=$(run source sync 1 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
check "first sync exits 0 despite a 429" test $rc -eq 0
check "the 429 was retried after Retry-After" bash -c "grep -q 'GET /docs/expenses 429' '$T/log' && grep -q 'GET /docs/expenses 200' '$T/log'"
check "robots.txt read" grep -q 'GET /robots.txt 200' "$T/log"
check "the disallowed page was never requested" bash -c "! grep -q 'GET /private/' '$T/log'"
# /, handbook (+ its print copy), expenses, blog, retro, parking; /cookies is a 404.
check "documents: 6 (canonical duplicate stored once)" test "$(ndocs 1)" = 6
check "a phrase from a page is found (canonical URL as id)" grep -q "\"external_id\":\"$SITE/docs/handbook\"" <<<"$(found "heliotrope procedure")"
check "the print copy is not a document" absent 'handbook-print' "$(found "heliotrope procedure")"
check "a phrase from the 429 page is found" grep -q "/docs/expenses" <<<"$(found "kumquat reimbursements")"
check "the disallowed page is not found" test -z "$(found "quokka salary grid")"
check "navigation boilerplate is not found" test -z "$(found "zeppelinnav")"
check "cookie banner boilerplate is not found" test -z "$(found "marmaladeconsent")"
check "footer boilerplate is not found" test -z "$(found "footerwalrus")"
out=$(run search "tangerine migration" --json -k 1)
check "title taken from the page" grep -q '"title":"Release retrospective"' <<<"$out"

: > "$T/log"
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "re-sync: nothing written" grep -qE "added 0, updated 0, unchanged 0, removed 0, errors 0" <<<"$out"
check "re-sync: every page answered 304" test "$(grep -c ' 304$' "$T/log")" = 7
check "re-sync: no page body fetched again" bash -c "! grep -E 'GET /(docs|blog)[^ ]* 200' '$T/log'"

# The parking post disappears (404) and its links with it.
edit_state "
del s['pages']['/blog/parking']
s['pages']['/blog/']['body'] = \"<ul><li><a href='/blog/retro'>Retrospective</a></li></ul>\""
out=$(run source sync 1 2>&1)
echo "$out" | sed 's/^/    /'
check "the vanished page is removed" grep -qE "removed 1, errors 0" <<<"$out"
check "documents now 5" test "$(ndocs 1)" = 5
check "its phrase is no longer found" test -z "$(found "albatross spaces")"

# A second source from the sitemap index and the RSS + Atom feeds, for staff only.
out=$(run source add web --url "$SITE/" --sitemap "$SITE/sitemap.xml" --feed "$SITE/feed.xml" --feed "$SITE/atom.xml" \
      --acl group:staff --name acme-sitemap --rate-per-min 100000 2>&1)
check "source add web (sitemap + feeds, --acl)" grep -q "added source 2" <<<"$out"
out=$(run source sync 2 2>&1)
echo "$out" | sed 's/^/    /'
check "sitemap index followed" grep -q 'GET /sitemap-pages.xml 200' "$T/log"
# sitemap: 7 pages minus the disallowed one, print copy merged into its canonical.
check "sitemap source: 5 documents" test "$(ndocs 2)" = 5
check "staff see the sitemap source's pages" grep -q '"external_id"' <<<"$(found "tangerine" --source 2 --group staff)"
check "others do not" test -z "$(found "tangerine" --source 2)"
out=$(run source add web --url "$SITE/" --acl wheel --name bad 2>&1)
check "a bad --acl entry is refused" grep -q "not public, user:LOGIN or group:NAME" <<<"$out"
out=$(run verify 2>&1)
check "store and index agree: $out" grep -q '^ok:' <<<"$out"
finish
