#!/usr/bin/env bash
# End-to-end: the OpenAI-compatible providers against a REAL llama-server
# (llama.cpp, built by scripts/build-llama) on loopback, with tiny
# random-weight GGUF models (tests/models/make-tiny-models.sh). The model's
# text is gibberish: this checks protocol, streaming, usage recording,
# citation checking and the fallback, never answer quality.
#   - savoir serve --chat openai: /api/chat (SSE) and /v1/chat/completions
#     with the model answerer, follow-up rewriting, `savoir usage`, `savoir ask`;
#   - the official `openai` npm client against it (tests/js/openai.test.mjs);
#   - llama-server stopped: answers still arrive, extractive, with the notice;
#   - start-up errors of bad model options;
#   - the OpenAI embedder against `llama-server --embedding` (tiny BERT).
# Usage: models_openai.sh SAVOIR_BINARY SOURCE_DIR
set -u
BIN=$1
SRC=$2
CACHE=${SAVOIR_CACHE:-$HOME/.cache/savoir}
LLAMA_SERVER=${SAVOIR_LLAMA_SERVER:-$CACHE/llama-de3ff815/bin/llama-server}
[ -x "$LLAMA_SERVER" ] || { echo "$LLAMA_SERVER missing (run scripts/build-llama): skipped"; exit 77; }
[ -f "$SRC/tests/models/make-tiny-models.sh" ] || { echo "tests/models/make-tiny-models.sh missing: skipped"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
. "$SRC/tests/e2e/lib/serve.sh"

MODELS=${SAVOIR_TINY_MODELS:-$PWD/tiny-models}
bash "$SRC/tests/models/make-tiny-models.sh" "$MODELS" || { echo "FAIL: making the tiny models"; exit 1; }
CHAT_GGUF=$MODELS/tiny-llama.gguf
EMBED_GGUF=$MODELS/tiny-bert.gguf
[ -f "$CHAT_GGUF" ] && [ -f "$EMBED_GGUF" ] || { echo "FAIL: tiny models missing in $MODELS"; ls "$MODELS"; exit 1; }

WORK=$(mktemp -d)
LLAMA_PIDS=()
cleanup() {
  savoir_stop >/dev/null 2>&1
  for p in "${LLAMA_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$WORK" "${SAVOIR_LOG:-}" "${SAVOIR_LOG:-}.out"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

LLAMA_LOG_DIR=$WORK
source "$SRC/tests/e2e/lib/llama.sh"

savoir_index_demo "$BIN" "$SRC" "$WORK/data" || fail "indexing the demo corpus"

# 1. Bad model options are clear start-up errors (exit 1, one line naming the option).
out=$("$BIN" --data "$WORK/data" serve --port 0 --chat openai --chat-model m 2>&1); rc=$?
[ $rc = 1 ] && grep -q -- "--chat-url" <<<"$out" || fail "no --chat-url: rc $rc, $out"
echo "secret-key-value" >"$WORK/key"
out=$("$BIN" --data "$WORK/data" serve --port 0 --chat openai --chat-url ftp://x --chat-model m 2>&1); rc=$?
[ $rc = 1 ] && grep -q -- "--chat-url must be an http" <<<"$out" || fail "bad --chat-url: rc $rc, $out"
out=$("$BIN" --data "$WORK/data" serve --port 0 --chat openai --chat-url http://127.0.0.1:1/v1 --chat-model m \
      --chat-api-key-file "$WORK/nokey" 2>&1); rc=$?
[ $rc = 1 ] && grep -q -- "--chat-api-key-file" <<<"$out" || fail "missing key file: rc $rc, $out"
echo "ok: start-up errors"

# 2. The chat model: llama-server with the tiny llama model, savoir in front of it.
start_llama -m "$CHAT_GGUF" -c 2048 -np 2 || fail "llama-server (chat)"
savoir_start "$BIN" "$WORK/data" --chat openai --chat-url "$LLAMA_URL/v1" --chat-model tiny-llama \
  --chat-api-key-file "$WORK/key" --answer-max-tokens 24 || fail "savoir serve --chat openai"
echo "savoir at $SAVOIR_URL, llama-server at $LLAMA_URL"
grep -q "answers by the language model tiny-llama" "$SAVOIR_LOG" || fail "start-up line: $(cat "$SAVOIR_LOG")"

python3 "$SRC/tests/e2e/lib/models_openai_checks.py" "$SAVOIR_URL" "$BIN" "$WORK/data" model ||
  { tail -20 "$SAVOIR_LOG"; fail "model checks"; }

# 3. The official openai npm client with the model answerer behind the API.
if command -v node >/dev/null && [ -d "$SRC/tests/js/node_modules/openai" ]; then
  (cd "$SRC/tests/js" && SAVOIR_URL=$SAVOIR_URL SAVOIR_ANSWER_MODE=model node --test --test-reporter=spec openai.test.mjs) ||
    { tail -20 "$SAVOIR_LOG"; fail "openai npm client against the model answerer"; }
else
  echo "note: tests/js/node_modules missing: openai npm client not run"
fi

# 4. `savoir ask` with the same model.
"$BIN" --data "$WORK/data" --chat openai --chat-url "$LLAMA_URL/v1" --chat-model tiny-llama --answer-max-tokens 16 \
  ask "How long are database backups retained?" --json >"$WORK/ask.json" || fail "savoir ask"
python3 - "$WORK/ask.json" <<'PY' || fail "savoir ask output"
import json, re, sys
a = json.load(open(sys.argv[1]))
assert a["mode"] == "model" and a["model"] == "tiny-llama", a
assert a["sources"] and 0 < a["usage"]["completion_tokens"] <= 16 and a["usage"]["prompt_tokens"] > 0, a
assert all(1 <= int(n) <= len(a["sources"]) for n in re.findall(r"\[(\d+)\]", a["answer"])), a["answer"]
assert {c["n"] for c in a["citations"]} == {int(n) for n in re.findall(r"\[(\d+)\]", a["answer"])}, a
print("ok: savoir ask (model)")
PY

# 5. The model goes away: answers still arrive, extractive, with the notice.
kill "$LLAMA_PID"; wait "$LLAMA_PID" 2>/dev/null
python3 "$SRC/tests/e2e/lib/models_openai_checks.py" "$SAVOIR_URL" "$BIN" "$WORK/data" down ||
  { tail -20 "$SAVOIR_LOG"; fail "fallback checks"; }
grep -q "language model tiny-llama failed" "$SAVOIR_LOG" || fail "the failure is not logged"
if grep -q "secret-key-value" "$SAVOIR_LOG" "$SAVOIR_LOG.out"; then fail "the API key appears in the server's output"; fi
savoir_stop || fail "savoir did not exit 0 on SIGTERM"
echo "ok: fallback when the model is down"

# 6. The embedder against llama-server --embedding with the tiny BERT model.
start_llama -m "$EMBED_GGUF" --embedding --pooling mean -c 512 -b 512 -ub 512 || fail "llama-server (embeddings)"
"$BIN" --embedder openai --embed-url "$LLAMA_URL/v1" --embed-model tiny-bert \
  embed "Database backups are kept for 30 days." "Les congés se posent dans le portail RH." \
        "Database backups are kept for 30 days." >"$WORK/emb.json" || fail "savoir embed"
curl -sf "$LLAMA_URL/v1/embeddings" -H 'Content-Type: application/json' \
  -d '{"model":"tiny-bert","input":["Database backups are kept for 30 days."]}' >"$WORK/ref.json" || fail "llama-server /v1/embeddings"
python3 - "$WORK/emb.json" "$WORK/ref.json" "$LLAMA_URL" <<'PY' || fail "embedder output"
import json, math, sys
e = json.load(open(sys.argv[1])); ref = json.load(open(sys.argv[2]))["data"][0]["embedding"]
v = e["vectors"]
assert e["model_id"] == "openai:" + sys.argv[3] + "/v1:tiny-bert", e["model_id"]
assert len(v) == 3 and all(len(x) == e["dimensions"] == len(ref) for x in v), (len(v), e["dimensions"], len(ref))
for x in v:
    assert abs(math.sqrt(sum(a * a for a in x)) - 1) < 1e-4, "unit length"
n = math.sqrt(sum(a * a for a in ref))
assert max(abs(a - b / n) for a, b in zip(v[0], ref)) < 1e-4, "same vector as llama-server's own, normalized"
assert max(abs(a - b) for a, b in zip(v[0], v[2])) < 1e-5, "same text, same vector within a batch"
assert max(abs(a - b) for a, b in zip(v[0], v[1])) > 1e-3, "different texts differ"
print(f"ok: embedder, {e['dimensions']} dimensions, matches llama-server")
PY
out=$("$BIN" --embedder openai --embed-url "$LLAMA_URL/v1" embed x 2>&1); rc=$?
[ $rc = 1 ] && grep -q -- "--embed-model" <<<"$out" || fail "embedder without --embed-model: rc $rc, $out"
echo "PASS"
