#!/usr/bin/env bash
# BM25 vs dense vs hybrid (RRF, and weighted fusion at three weights) on a
# BEIR dataset, with a real embedding model. Needs SAVOIR_TEST_MODEL: a GGUF
# embedding model file (e.g. a multilingual-e5 or bge GGUF), run locally
# through llama.cpp (--embedder llama). Without it, prints how to run it and
# exits 0 (nothing to measure).
#   SAVOIR_TEST_MODEL=/path/model.gguf bench/hybrid_eval.sh [SAVOIR_BINARY] [BEIR_DIR]
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build/savoir}
DATA=${2:-$SRC/../shared/data/beir/scifact}
if [ -z "${SAVOIR_TEST_MODEL:-}" ]; then
  echo "SAVOIR_TEST_MODEL is not set: point it at a GGUF embedding model to measure hybrid retrieval" >&2
  echo "  SAVOIR_TEST_MODEL=/path/model.gguf $0 [savoir-binary] [beir-dir]" >&2
  exit 0
fi
[ -f "$SAVOIR_TEST_MODEL" ] || { echo "no such file: $SAVOIR_TEST_MODEL" >&2; exit 1; }
[ -d "$DATA" ] || { echo "no BEIR folder at $DATA" >&2; exit 1; }
EMB=(--embedder llama --embed-model "$SAVOIR_TEST_MODEL")
echo "dataset $DATA, model $SAVOIR_TEST_MODEL"
# Each eval uses its own temporary store, so each run embeds the corpus
# again; the weighted runs measure hybrid only.
"$BIN" "${EMB[@]}" --fusion rrf eval --beir "$DATA" --mode bm25 --mode dense --mode hybrid
for w in 0.3 0.5 0.7; do
  echo "--- weighted fusion, weight $w"
  "$BIN" "${EMB[@]}" --fusion weighted --fusion-weight "$w" eval --beir "$DATA" --mode hybrid | grep -E "^(hybrid|mode)"
done
