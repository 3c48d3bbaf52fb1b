#!/usr/bin/env bash
# Writes the reproducible N-document corpus of the HTTP and footprint figures
# as a BEIR folder: DIR/corpus.jsonl (3-8 sentences sampled from SciFact and
# PIAF per document, a sampled title, fixed seed 42) and DIR/queries.jsonl
# (SciFact's queries). Usage: bench/make_corpus.sh N DIR
# then e.g. bench/http_search.sh build/savoir 5 DIR
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
N=${1:?usage: bench/make_corpus.sh N DIR}
OUT=${2:?usage: bench/make_corpus.sh N DIR}
DATA="$SRC/../shared/data/beir"
[ -d "$DATA/scifact" ] || { echo "needs ../shared/data/beir" >&2; exit 77; }
python3 - "$DATA" "$N" "$OUT" <<'PY'
import json, os, random, re, shutil, sys
data, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
sentences = []
for name in ("scifact", "piaf-fr"):
    for line in open(os.path.join(data, name, "corpus.jsonl")):
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", json.loads(line)["text"]) if len(s) > 20]
rng = random.Random(42)
with open(os.path.join(out, "corpus.jsonl"), "w") as f:
    for i in range(n):
        text = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 8)))
        f.write(json.dumps({"_id": f"d{i}", "title": rng.choice(sentences)[:80], "text": text}) + "\n")
shutil.copy(os.path.join(data, "scifact", "queries.jsonl"), os.path.join(out, "queries.jsonl"))
PY
