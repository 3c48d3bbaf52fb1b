#!/usr/bin/env bash
# The benchmarks are built by `make test` (so they cannot rot unseen) and the
# keyword benchmark runs once on the small PIAF corpus against SQLite FTS5:
# it must finish, print its table and JSON, and find the same quality as the
# eval command. Speed is not checked here (bench/ prints the ratios).
set -uo pipefail
BIN=$1 SRC=$2
source "$SRC/tests/e2e/lib/check.sh"
DIR=$(dirname "$BIN")
DATA=${SAVOIR_SHARED_DATA:-$SRC/../shared/data}/beir
if [ ! -x "$DIR/keyword_bench" ]; then echo "skip: $DIR/keyword_bench not built (make test builds it)"; exit 77; fi
if [ ! -f "$DATA/piaf-fr/corpus.jsonl" ]; then echo "skip: $DATA/piaf-fr is absent (../shared/data)"; exit 77; fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
out=$("$DIR/keyword_bench" --data "$DATA" --corpora piaf --engines savoir,fts5 --work "$WORK" 2>&1)
rc=$?
check "keyword_bench exits 0" test "$rc" -eq 0
check "prints the index size target" grep -q "TARGET Savoir index size / raw text" <<<"$out"
json=$(grep '^BENCH_JSON ' <<<"$out" | sed 's/^BENCH_JSON //')
check "prints JSON" test -n "$json"
ndcg=$(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["corpora"]["piaf"]["engines"]["savoir"]["sets"]["test"]["ndcg10"])' "$json" 2>/dev/null)
check "PIAF nDCG@10 through the bench is the eval's (0.821)" python3 -c "import sys; sys.exit(0 if abs(float('$ndcg' or 0) - 0.821) < 0.002 else 1)"
[ "$fails" -eq 0 ] || echo "$out" | tail -30
finish
