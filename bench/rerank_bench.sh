#!/usr/bin/env bash
# Reranking throughput ((query, document) pairs/s and pairs per CPU second)
# of Savoir's local reranker (--reranker llama) against llama.cpp's
# llama-server --reranking /v1/rerank, same GGUF file, same requests, same
# threads, in one run; checks that both give the same scores.
#
#   bench/rerank_bench.sh [BUILD_DIR] [N_QUERIES] [DOCS_PER_QUERY] [MODEL.gguf]
#
# Requests: N_QUERIES (default 50) SciFact queries, each with DOCS_PER_QUERY
# (default 20, --rerank-top's default) abstracts cut at 1,000 characters
# (../shared/data/beir/scifact), else questions and paragraphs made from
# demo/. One request = one Score call / one POST (what one search does).
# Model: MODEL, else $SAVOIR_TEST_RERANK_MODEL, else the tiny random
# cross-encoder (tests/models). Threads: SAVOIR_LLAMA_THREADS (default 1).
# llama-server runs with its defaults for reranking (4 slots batched
# together, n_batch = n_ubatch = 512); its CPU time is read from /proc.
# Prints a table, the ratios and a BENCH_JSON line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
nq=${2:-50}
per=${3:-20}
model=${4:-${SAVOIR_TEST_RERANK_MODEL:-}}
threads=${SAVOIR_LLAMA_THREADS:-1}
prefix=${SAVOIR_LLAMA_PREFIX:-${SAVOIR_CACHE:-$HOME/.cache/savoir}/llama-de3ff815}
work=$(mktemp -d /tmp/savoir-rerank-bench.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; }
  rm -rf "$work"
}
trap cleanup EXIT

cmake --build "$build" -j2 --target rerank_bench >/dev/null
if [ -z "$model" ]; then
  "$here/tests/models/make-tiny-models.sh" "$build/tiny-models"
  model=$build/tiny-models/tiny-bert-rerank.gguf
fi

scifact=$here/../shared/data/beir/scifact
/usr/bin/python3 - "$scifact" "$here/demo" "$nq" "$per" "$work/requests.jsonl" <<'PY'
import json, os, random, sys
src, demo, nq, per, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rng = random.Random(7)
queries, docs = [], []
if os.path.exists(os.path.join(src, "corpus.jsonl")):
    origin = "SciFact"
    with open(os.path.join(src, "corpus.jsonl")) as f:
        for line in f:
            d = json.loads(line)
            docs.append((d.get("title", "") + ". " + d.get("text", ""))[:1000])
            if len(docs) >= 5000: break
    with open(os.path.join(src, "queries.jsonl")) as f:
        queries = [json.loads(l)["text"] for l in f][:nq]
else:
    origin = "demo/"
    for root, _, files in sorted(os.walk(demo)):
        for fn in sorted(files):
            if fn.endswith((".md", ".txt")):
                for p in open(os.path.join(root, fn), errors="replace").read().split("\n\n"):
                    p = " ".join(p.split())
                    if len(p) > 40: docs.append(p[:1000])
    queries = [" ".join(d.split()[:8]) + " ?" for d in docs]
    queries = (queries * (nq // max(1, len(queries)) + 1))[:nq]
with open(out, "w") as f:
    for q in queries:
        f.write(json.dumps({"query": q, "documents": rng.sample(docs, min(per, len(docs)))}) + "\n")
print(f"{len(queries)} queries x {per} documents from {origin}", file=sys.stderr)
PY

# Ours: the production LlamaReranker in a small program (model loaded once).
ours=$("$build/rerank_bench" "$model" "$work/requests.jsonl" --threads "$threads" --out "$work/ours.json")

# llama-server --reranking on a free port, warmed by one request.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$prefix/bin/llama-server" -m "$model" --host 127.0.0.1 --port "$port" -t "$threads" -tb "$threads" --reranking \
  -c 2048 -b 512 -ub 512 --no-webui >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { tail -20 "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

/usr/bin/python3 - "$ours" "$work/requests.jsonl" "$work/ours.json" "$port" "$server_pid" "$model" "$threads" <<'PY'
import json, os, sys, time, urllib.request
ours = json.loads(sys.argv[1]); reqs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
our_scores = json.load(open(sys.argv[3])); port, pid = sys.argv[4], sys.argv[5]
url = f"http://127.0.0.1:{port}/v1/rerank"
tick = os.sysconf("SC_CLK_TCK")
def server_cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick  # utime + stime
def post(r):
    body = json.dumps({"query": r["query"], "documents": r["documents"], "top_n": len(r["documents"])}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    res = json.load(urllib.request.urlopen(req, timeout=600))["results"]
    s = [None] * len(r["documents"])
    for x in res: s[x["index"]] = x["relevance_score"]
    return s
post(reqs[0])  # warm-up
c0, t0 = server_cpu(), time.monotonic()
ref = [post(r) for r in reqs]
t1, c1 = time.monotonic(), server_cpu()
pairs = sum(len(r["documents"]) for r in reqs)
srv_wall, srv_cpu = t1 - t0, c1 - c0
maxdiff = max(abs(a - b) for x, y in zip(our_scores, ref) for a, b in zip(x, y))
order = lambda s: sorted(range(len(s)), key=lambda i: -s[i])
same_order = sum(order(x) == order(y) for x, y in zip(our_scores, ref))
print(f"model {sys.argv[6]}  requests {len(reqs)}  pairs {pairs}  tokens {ours['tokens']}  threads {sys.argv[7]}")
print(f"{'':34} {'wall s':>8} {'pairs/s':>9} {'CPU s':>8} {'pairs/CPU s':>12}")
rows = [("savoir LlamaReranker (in process)", ours["score_s"], ours["cpu_s"]),
        ("llama-server /v1/rerank (HTTP)", srv_wall, srv_cpu)]
for name, w, c in rows: print(f"{name:34} {w:8.2f} {pairs / w:9.1f} {c:8.2f} {pairs / c if c else 0:12.1f}")
ratio_wall = (pairs / ours["score_s"]) / (pairs / srv_wall)
ratio_cpu = srv_cpu / ours["cpu_s"] if ours["cpu_s"] else 0
print(f"ratio savoir/llama-server: {ratio_wall:.2f}x pairs/s (wall), {ratio_cpu:.2f}x pairs per CPU second")
print(f"scores: max |ours - llama-server| = {maxdiff:.2e}; same order in {same_order}/{len(reqs)} requests")
print("BENCH_JSON " + json.dumps({"bench": "rerank", "model": sys.argv[6], "requests": len(reqs), "pairs": pairs,
      "tokens": ours["tokens"], "threads": int(sys.argv[7]), "savoir_pairs_per_s": round(pairs / ours["score_s"], 1),
      "savoir_cpu_s": ours["cpu_s"], "llama_server_pairs_per_s": round(pairs / srv_wall, 1), "llama_server_cpu_s": round(srv_cpu, 3),
      "ratio_wall": round(ratio_wall, 3), "ratio_cpu": round(ratio_cpu, 3), "max_abs_diff": maxdiff,
      "same_order": same_order}))
PY
