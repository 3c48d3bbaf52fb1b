#!/usr/bin/env python3
"""Writes real embeddings for vector_bench --vectors: the first N documents of a
BEIR corpus embedded by `savoir embed` with a GGUF model (float32, raw).

  bench/model_vectors.py BIN MODEL.gguf CORPUS.jsonl N OUT.f32
  build/vector_bench --vectors OUT.f32 --dims D --queries 200

Prints the dimensions. With the tiny random-weight test models
(tests/models/make-tiny-models.sh) the vectors have a real tokenizer's
structure but no meaning; with SAVOIR_TEST_MODEL they are real embeddings.
"""
import json, struct, subprocess, sys

binary, model, corpus, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
texts = []
with open(corpus, encoding="utf-8") as f:
    for line in f:
        d = json.loads(line)
        texts.append(((d.get("title") or "") + "\n" + (d.get("text") or ""))[:1500])
        if len(texts) >= n:
            break
dims = 0
with open(out, "wb") as w:
    for i in range(0, len(texts), 100):
        r = subprocess.run([binary, "--embedder", "llama", "--embed-model", model, "--llama-threads", "1",
                            "embed"] + texts[i:i + 100], capture_output=True, text=True, check=True)
        j = json.loads(r.stdout)
        for v in j["vectors"]:
            dims = len(v)
            w.write(struct.pack("<%df" % dims, *v))
print(dims)
