#!/usr/bin/env bash
# End-to-end test of the savoir command line on the demo corpus and on bad
# input. Usage: cli.sh <savoir-binary> <source-dir>
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
T=$(mktemp -d /tmp/savoir-e2e-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
source "$SRC/tests/e2e/lib/check.sh"
run() { "$BIN" --data "$T/data" "$@"; }

# Usage errors: exit 2, one line naming the problem.
out=$("$BIN" search foo --bogus 2>&1); rc=$?
check "unknown flag exits 2" test $rc -eq 2
check "unknown flag is named" grep -q -- "--bogus" <<<"$out"
out=$("$BIN" --bm25-k1 abc search x 2>&1); rc=$?
check "bad option value exits 2 and says why" bash -c "[ $rc -eq 2 ] && grep -q 'bm25-k1' <<<'$out'"

# Index the demo corpus.
cp -r "$SRC/demo" "$T/demo"
out=$(run index "$T/demo" 2>&1); rc=$?
check "index demo exits 0" test $rc -eq 0
check "index summary counts added files" grep -qE "added [1-9][0-9]*, updated 0" <<<"$out"
n_added=$(sed -nE 's/.*added ([0-9]+),.*/\1/p' <<<"$out")

top=$(run search "combien de jours de congés payés" --json -k 3 | head -1)
check "French query finds the leave policy first" grep -q '"external_id":"handbook/conges-payes.md"' <<<"$top"
top=$(run search "conges payes" --json -k 3 | head -1)
check "accent-less query finds it too" grep -q 'conges-payes.md' <<<"$top"
out=$(run search "on-call acknowledge SEV1 page" --json -k 3 | head -1)
check "English query finds the on-call runbook" grep -q 'on-call-rotation.md' <<<"$out"

# Permissions: restricted documents only for their group.
out=$(run search "grilles de salaires ingénieur logiciel confirmé" --json -k 50)
check "anonymous never sees hr-confidential" absent '"external_id":"hr-confidential' "$out"
out=$(run search "grilles de salaires ingénieur logiciel confirmé" --json -k 50 --as bob --group finance)
check "finance never sees hr-confidential" absent '"external_id":"hr-confidential' "$out"
out=$(run search "grilles de salaires ingénieur logiciel confirmé" --json -k 3 --as bob --group hr | head -1)
check "hr sees the salary grid first" grep -q 'hr-confidential/grilles-salaires-2026.md' <<<"$out"
out=$(run search "grilles de salaires" --json -k 3 --as claire.dubois | head -1)
check "a user named in .savoir-acl sees it" grep -q 'grilles-salaires-2026.md' <<<"$out"

# Incremental: nothing changed, then one edit, one removal.
out=$(run index "$T/demo" 2>&1)
check "re-index touches nothing" grep -q "added 0, updated 0, unchanged $n_added, removed 0" <<<"$out"
echo "Ajout : les congés d'ancienneté donnent un jour de plus après dix ans." >> "$T/demo/handbook/conges-payes.md"
rm "$T/demo/handbook/travel-policy.md"
out=$(run index "$T/demo" 2>&1)
check "edit and removal are picked up" grep -q "added 0, updated 1, unchanged $((n_added - 2)), removed 1" <<<"$out"
out=$(run search "congés d'ancienneté dix ans" --json -k 1)
check "edited text is searchable" grep -q 'conges-payes.md' <<<"$out"
out=$(run search "train mandatory under four hours premium economy" --json -k 20)
check "removed file is gone from results" absent '"external_id":"handbook/travel-policy.md' "$out"
check "verify passes" run verify

# Access list change without a content change is applied.
printf 'group:hr\n' > "$T/demo/blog/.savoir-acl"
out=$(run index "$T/demo" 2>&1)
out=$(run search "entrepôt Saint-Priest quais" --json -k 20)
check "a new .savoir-acl restricts documents already indexed" absent '"external_id":"blog/' "$out"
printf 'grop:hr\n' > "$T/demo/blog/.savoir-acl"
out=$(run index "$T/demo" 2>&1)
check "a malformed .savoir-acl is reported with its line" grep -q "savoir-acl:1: unknown entry 'grop:hr'" <<<"$out"
out=$(run search "entrepôt Saint-Priest quais" --json -k 20 --as x --group hr)
check "files under a malformed .savoir-acl are not searchable" absent '"external_id":"blog/' "$out"
rm "$T/demo/blog/.savoir-acl"

# Bad files cost one file each; what is stored stays.
mkdir -p "$T/bad"
truncate -s 200M "$T/bad/huge.txt"
python3 - "$T/bad" <<'PY'
import sys, zipfile
d = sys.argv[1]
with zipfile.ZipFile(d + "/bomb.docx", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", "<Types/>")
    z.writestr("word/document.xml", "<w:document>" + "A" * (300 << 20) + "</w:document>")
open(d + "/broken.pdf", "wb").write(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF")
# A page tree whose node is its own kid: naive traversals loop.
open(d + "/loop.pdf", "wb").write(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj\ntrailer << /Root 1 0 R /Size 3 >>\n%%EOF")
open(d + "/ok.md", "w").write("# Procédure de sauvegarde\n\nLes sauvegardes quotidiennes sont conservées trente-cinq jours.\n")
PY
before=$(run status | sed -nE 's/^index +([0-9]+) chunks.*/\1/p')
out=$(run --parse-timeout-ms 5000 index "$T/bad" 2>&1); rc=$?
check "indexing a folder with bad files still exits 0" test $rc -eq 0
check "the 200 MB file is reported as too large" grep -qE "failed: .*huge.txt: .*too large" <<<"$out"
check "the zip bomb is reported" grep -qE "failed: .*bomb.docx: " <<<"$out"
check "the broken PDF is reported" grep -qE "failed: .*broken.pdf: " <<<"$out"
check "the good file in the same folder is indexed" grep -q "added 1," <<<"$out"
after=$(run status | sed -nE 's/^index +([0-9]+) chunks.*/\1/p')
check "nothing already stored was lost" test "$after" -gt "$before"
check "verify passes after bad input" run verify

# Bad queries and paths.
out=$(run search "   " 2>&1); rc=$?
check "empty query exits 1 with a message" bash -c "[ $rc -eq 1 ] && grep -q 'query is empty' <<<'$out'"
out=$(run index "$T/does-not-exist" 2>&1); rc=$?
check "missing path exits 1 naming it" bash -c "[ $rc -eq 1 ] && grep -q 'does-not-exist' <<<'$out'"

# A damaged index is rebuilt from the store; a corrupt store is a clear error.
echo "garbage" > "$T/data/index/MANIFEST"
out=$(run search "conges payes" --json -k 1)
check "a damaged index is rebuilt from the store" grep -q 'conges-payes.md' <<<"$out"
check "reindex works" run reindex
check "verify after reindex" run verify
cp -r "$T/data" "$T/data2"
head -c 65536 /dev/urandom > "$T/data2/savoir.db"; rm -f "$T/data2/savoir.db-wal" "$T/data2/savoir.db-shm"
out=$("$BIN" --data "$T/data2" search "x" 2>&1); rc=$?
check "a corrupt store exits 1 with one line naming the file" bash -c "[ $rc -eq 1 ] && grep -q 'savoir.db' <<<'$out' && [ \$(wc -l <<<'$out') -eq 1 ]"

# Evaluation output contract (skipped without the shared data).
if [ -d "$SRC/../shared/data/beir/scifact" ]; then
  last=$("$BIN" eval --beir "$SRC/../shared/data/beir/scifact" --json | tail -1)
  check "eval --json ends with the figures" python3 -c "
import json,sys; j=json.loads(sys.argv[1])
for k in ['ndcg@10','recall@100','mrr@10','queries','index_seconds','query_p50_ms','query_p99_ms']: assert k in j, k
assert j['ndcg@10'] >= 0.679, j['ndcg@10']" "$last"
else
  echo "skip - eval contract: ../shared/data is absent"
fi

finish
