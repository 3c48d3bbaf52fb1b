#!/usr/bin/env bash
# Embedding throughput (chunks/s) of Savoir's local embedder against
# llama.cpp's own llama-embedding, same GGUF file, same chunks, same threads
# and batch size, in one run; checks that both give the same vectors.
#
#   bench/embed_bench.sh [BUILD_DIR] [N_CHUNKS] [MODEL.gguf]
#
# Chunks: SciFact's first N abstracts (../shared/data/beir/scifact) cut at
# 1,200 characters, else the paragraphs of demo/. Model: MODEL, else
# $SAVOIR_TEST_MODEL, else the tiny random BERT (tests/models). Threads:
# SAVOIR_LLAMA_THREADS (default 2). Prints a table and a BENCH_JSON line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
n=${2:-2000}
model=${3:-${SAVOIR_TEST_MODEL:-}}
threads=${SAVOIR_LLAMA_THREADS:-2}
prefix=${SAVOIR_LLAMA_PREFIX:-${SAVOIR_CACHE:-$HOME/.cache/savoir}/llama-de3ff815}
work=$(mktemp -d /tmp/savoir-embed-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --build "$build" -j2 --target embed_bench >/dev/null
if [ -z "$model" ]; then
  "$here/tests/models/make-tiny-models.sh" "$build/tiny-models"
  model=$build/tiny-models/tiny-bert.gguf
fi

scifact=$here/../shared/data/beir/scifact/corpus.jsonl
/usr/bin/python3 - "$scifact" "$here/demo" "$n" "$work/chunks.txt" <<'PY'
import json, os, sys
src, demo, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
chunks, origin = [], ""
if os.path.exists(src):
    origin = "SciFact abstracts"
    with open(src) as f:
        for line in f:
            d = json.loads(line)
            chunks.append((d.get("title", "") + ". " + d.get("text", ""))[:1200])
            if len(chunks) >= n: break
else:
    origin = "demo/ paragraphs"
    for root, _, files in sorted(os.walk(demo)):
        for fn in sorted(files):
            if fn.endswith((".md", ".txt")):
                for p in open(os.path.join(root, fn), errors="replace").read().split("\n\n"):
                    p = p.strip()
                    if len(p) > 20: chunks.append(p[:1200])
    chunks = (chunks * (n // max(1, len(chunks)) + 1))[:n]
chunks = [" ".join(c.split()) for c in chunks]
open(out, "w").write("\n".join(chunks) + "\n")
print(f"{len(chunks)} chunks from {origin}", file=sys.stderr)
PY

now() { date +%s.%N; }
t0=$(now)
# CPU seconds (user + sys) of each process too: on a shared machine they
# vary less than wall time.
T="/usr/bin/time -f %U+%S -o"
ours=$($T "$work/cpu1" "$build/embed_bench" "$model" "$work/chunks.txt" --threads "$threads" --batch-tokens 1024 --max-seqs 32 --out "$work/ours.json")
t1=$(now)
# Our default packing (512 tokens per pass) too.
ours512=$($T "$work/cpu2" "$build/embed_bench" "$model" "$work/chunks.txt" --threads "$threads" --max-seqs 32)
t1b=$(now)
$T "$work/cpu3" "$prefix/bin/llama-embedding" -m "$model" -f "$work/chunks.txt" -t "$threads" -c 1024 -b 1024 -ub 1024 \
  --embd-normalize 2 --embd-output-format array >"$work/ref.json" 2>"$work/ref.log" ||
  { tail -5 "$work/ref.log" >&2; exit 1; }
t2=$(now)

/usr/bin/python3 - "$ours" "$t0" "$t1" "$t2" "$work/ours.json" "$work/ref.json" "$model" "$threads" "$ours512" "$t1b" "$(tail -1 "$work/cpu1")" "$(tail -1 "$work/cpu2")" "$(tail -1 "$work/cpu3")" <<'PY'
import json, math, sys
ours = json.loads(sys.argv[1]); t0, t1, t2 = map(float, sys.argv[2:5])
ours512 = json.loads(sys.argv[9]); t1b = float(sys.argv[10])
cpu = [eval(x) for x in sys.argv[11:14]]  # "user+sys" from /usr/bin/time
a = json.load(open(sys.argv[5]))
# llama-embedding prints through an asynchronous log thread that is not
# flushed at exit (upstream issue 22142): the end of its output can be cut, so
# only the whole vectors printed are compared.
import re
b = [[float(x) for x in m.group(1).split(",")] for m in re.finditer(r"\[([^\[\]]*)\]", open(sys.argv[6]).read())]
b = [v for v in b if len(v) == len(a[0])]
cos = min(sum(x*y for x, y in zip(u, v)) / math.sqrt(sum(x*x for x in u) * sum(y*y for y in v)) for u, v in zip(a, b))
n = ours["chunks"]
ours_wall, ref_wall, ours512_wall = t1 - t0, t2 - t1b, t1b - t1
rows = [("savoir, 1024-token passes (process)", ours_wall, n / ours_wall, cpu[0]),
        ("savoir, default 512 (process)", ours512_wall, n / ours512_wall, cpu[1]),
        ("llama-embedding, 1024 (process)", ref_wall, n / ref_wall, cpu[2])]
print(f"model {sys.argv[7]}  chunks {n}  tokens {ours['tokens']}  threads {sys.argv[8]}")
print(f"{'':36} {'wall s':>8} {'chunks/s':>9} {'CPU s':>8} {'chunks/CPU s':>13}")
for name, s, r, c in rows: print(f"{name:36} {s:8.2f} {r:9.1f} {c:8.2f} {n / c:13.1f}")
ratio = (n / ours_wall) / (n / ref_wall)
print(f"ratio savoir/llama-embedding chunks/s, same 1024-token passes: {ratio:.2f}x wall, {cpu[2] / cpu[0]:.2f}x CPU; "
      f"savoir default (512): {ref_wall / ours512_wall:.2f}x wall, {cpu[2] / cpu[1]:.2f}x CPU")
print(f"min cosine ours vs llama-embedding: {cos:.6f} over the {len(b)} vectors it printed whole (of {n})")
print("BENCH_JSON " + json.dumps({"bench": "embed", "model": sys.argv[7], "chunks": n, "tokens": ours["tokens"],
      "threads": int(sys.argv[8]), "savoir_chunks_per_s": round(n / ours_wall, 1),
      "savoir_embed_only_chunks_per_s": ours["chunks_per_s"], "llama_embedding_chunks_per_s": round(n / ref_wall, 1),
      "ratio": round(ratio, 3), "savoir_default_chunks_per_s": round(n / ours512_wall, 1), "ratio_default": round(ref_wall / ours512_wall, 3),
      "ratio_cpu": round(cpu[2] / cpu[0], 3), "ratio_default_cpu": round(cpu[2] / cpu[1], 3), "min_cosine": round(cos, 6), "vectors_compared": len(b)}))
PY
