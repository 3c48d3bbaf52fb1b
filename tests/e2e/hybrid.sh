#!/usr/bin/env bash
# End-to-end: `savoir index` / `search` / `status` / `serve` with an embedder
# (the OpenAI-compatible one against a REAL llama-server --embedding serving a
# tiny random-weight BERT, tests/models/make-tiny-models.sh). Random weights:
# this checks the pipeline (embedding, cache, vectors, permissions, model
# switch, fallback), never retrieval quality (bench/hybrid_eval.sh does that
# with a real model).
# Usage: hybrid.sh SAVOIR_BINARY SOURCE_DIR
set -uo pipefail
BIN=$(realpath "$1"); SRC=$(realpath "$2")
CACHE=${SAVOIR_CACHE:-$HOME/.cache/savoir}
LLAMA_SERVER=${SAVOIR_LLAMA_SERVER:-$CACHE/llama-de3ff815/bin/llama-server}
[ -x "$LLAMA_SERVER" ] || { echo "$LLAMA_SERVER missing (run scripts/build-llama): skipped"; exit 77; }
[ -f "$SRC/tests/models/make-tiny-models.sh" ] || { echo "tests/models/make-tiny-models.sh missing: skipped"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
source "$SRC/tests/e2e/lib/check.sh"
. "$SRC/tests/e2e/lib/serve.sh"

T=$(mktemp -d /tmp/savoir-e2e-hybrid-XXXXXX)
LLAMA_PIDS=()
cleanup() {
  savoir_stop >/dev/null 2>&1
  for p in "${LLAMA_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"
}
trap cleanup EXIT

MODELS=${SAVOIR_TINY_MODELS:-$T/models}
bash "$SRC/tests/models/make-tiny-models.sh" "$MODELS" >/dev/null || { echo "FAIL: making the tiny models"; exit 1; }
EMBED_GGUF=$MODELS/tiny-bert.gguf
[ -f "$EMBED_GGUF" ] || { echo "FAIL: $EMBED_GGUF missing"; exit 1; }

LLAMA_LOG_DIR=$T
source "$SRC/tests/e2e/lib/llama.sh"
start_llama -m "$EMBED_GGUF" --embedding --pooling mean -c 512 -b 512 -ub 512 || { echo "FAIL: llama-server"; exit 1; }

# Chunks of at most 120 words: the tiny BERT's context is 512 tokens, and a
# 512-word chunk of French text is more than that in WordPiece tokens.
EMB=(--chunk-tokens 120 --embedder openai --embed-url "$LLAMA_URL/v1" --embed-model tiny-bert)
run() { "$BIN" --data "$T/data" "$@"; }
cp -r "$SRC/demo" "$T/demo"

# 1. Index with the embedder: every chunk embedded once, vectors reported.
out=$(run "${EMB[@]}" index "$T/demo" 2>&1); rc=$?
check "index with --embedder exits 0" test $rc -eq 0
check "index reports the vectors it embedded" grep -qE "vectors: [1-9][0-9]* in openai:.*tiny-bert.*[1-9][0-9]* embedded" <<<"$out"
n_vectors=$(sed -nE 's/.*vectors: ([0-9]+) in.*/\1/p' <<<"$out")
out=$(run "${EMB[@]}" status 2>&1)
check "status shows the vector index" grep -qE "vectors +$n_vectors of model openai:.*tiny-bert, 0 change\(s\) pending" <<<"$out"
out=$(run status 2>&1)
check "status without --embedder says keyword search" grep -q "off (no --embedder)" <<<"$out"

# 2. Re-indexing unchanged files embeds nothing.
out=$(run "${EMB[@]}" index "$T/demo" 2>&1)
check "re-index embeds nothing" grep -q "this run: 0 chunks, 0 from the cache, 0 embedded" <<<"$out"

# 3. Searches: hybrid by default, dense and bm25 on demand; permissions in all.
out=$(run "${EMB[@]}" search "grilles de salaires ingénieur logiciel confirmé" --json -k 50)
check "hybrid search returns results" grep -q '"document_id"' <<<"$out"
check "anonymous never sees hr-confidential (hybrid)" absent '"external_id":"hr-confidential' "$out"
out=$(run "${EMB[@]}" search "grilles de salaires ingénieur logiciel confirmé" --json -k 50 --mode dense)
check "dense search returns results" grep -q '"document_id"' <<<"$out"
check "anonymous never sees hr-confidential (dense)" absent '"external_id":"hr-confidential' "$out"
out=$(run "${EMB[@]}" search "grilles de salaires ingénieur logiciel confirmé" --json -k 50 --mode dense --as bob --group finance)
check "finance never sees hr-confidential (dense)" absent '"external_id":"hr-confidential' "$out"
out=$(run "${EMB[@]}" search "grilles de salaires ingénieur logiciel confirmé" --json -k 100 --mode dense --as bob --group hr)
check "hr reaches hr-confidential through the vector list" grep -q '"external_id":"hr-confidential' <<<"$out"
# (random vectors: the BM25 best is only sure to stay near the top)
out=$(run "${EMB[@]}" search "grilles de salaires ingénieur logiciel confirmé" --json -k 5 --as bob --group hr)
check "hybrid keeps the BM25 best in the top 5 for hr" grep -q 'grilles-salaires-2026.md' <<<"$out"
out=$(run search "grilles de salaires" --json -k 50 --mode dense 2>&1); rc=$?
check "dense without --embedder is a clear error" bash -c "[ $rc -ne 0 ] && grep -q 'no vector index' <<<'$out'"

# 4. An edited file: only its changed chunks are embedded; a removed one leaves.
f=$(grep -rl "" "$T/demo" | grep '\.md$' | head -1)
echo "Un paragraphe ajouté sur la politique de stationnement des vélos." >>"$f"
out=$(run "${EMB[@]}" index "$T/demo" 2>&1)
check "an edit embeds a few chunks, not the corpus" grep -qE "vectors: [0-9]+ in .*, [1-9] embedded\)|, [1-9][0-9] embedded\)" <<<"$out"
out=$(run "${EMB[@]}" status 2>&1)
check "no change pending after the edit" grep -q "0 change(s) pending" <<<"$out"

# 5. The server searches hybrid and reports the vector state.
savoir_start "$BIN" "$T/data" "${EMB[@]}" --refresh-s 1 || { echo "FAIL: serve"; exit 1; }
st=$(curl -sf "$SAVOIR_URL/api/status")
check "GET /api/status shows hybrid retrieval" grep -q '"retrieval":"hybrid"' <<<"$st"
check "GET /api/status names the model" grep -q 'tiny-bert' <<<"$st"
res=$(curl -sf -X POST "$SAVOIR_URL/api/search" -H 'Content-Type: application/json' -d '{"query":"astreinte incident","k":5}')
check "POST /api/search answers with vectors on" grep -q '"results"' <<<"$res"

# 6. The embedder down: search still answers (keyword list), with a warning.
kill "$LLAMA_PID"; wait "$LLAMA_PID" 2>/dev/null
res=$(curl -sf -X POST "$SAVOIR_URL/api/search" -H 'Content-Type: application/json' -d '{"query":"astreinte incident","k":5}')
check "search survives the embedder going down" grep -q '"document_id"' <<<"$res"
savoir_stop >/dev/null 2>&1

# 7. A new model (another model name): built, then switched; the old folder goes.
start_llama -m "$EMBED_GGUF" --embedding --pooling mean -c 512 -b 512 -ub 512 || { echo "FAIL: llama-server"; exit 1; }
EMB2=(--chunk-tokens 120 --embedder openai --embed-url "$LLAMA_URL/v1" --embed-model tiny-bert-2)
old_dirs=$(ls "$T/data/vectors" | grep -v -e CURRENT -e LOCK)
out=$(run "${EMB2[@]}" index "$T/demo" 2>&1); rc=$?
check "index with a new model exits 0" test $rc -eq 0
out=$(run "${EMB2[@]}" status 2>&1)
check "status shows the new model serving" grep -qE "vectors +[1-9][0-9]* of model openai:.*tiny-bert-2" <<<"$out"
new_dirs=$(ls "$T/data/vectors" | grep -v -e CURRENT -e LOCK)
check "one model folder remains, not the old one" bash -c "[ \$(wc -l <<<'$new_dirs') -eq 1 ] && [ '$new_dirs' != '$old_dirs' ]"
out=$(run verify 2>&1)
check "verify still passes" grep -q "^ok" <<<"$out"
finish
