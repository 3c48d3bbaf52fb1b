#!/usr/bin/python3
"""Why f16 storage loses recall@10 on some vectors: how close the 10th and 11th
true neighbours are, against the error f16/i8 rounding puts on a dot product.

  /usr/bin/python3 bench/f16_ties.py VECTORS.f32 DIMS [QUERIES]   (needs python3-numpy)

VECTORS.f32 is what bench/model_vectors.py writes; the last QUERIES (200) are
the queries, as in vector_bench --vectors. Prints exact-scan recall@10 for
f16, f32 and i8 storage, the same counting a miss as a hit when its true score
is within 1e-4 of the 10th (a near-tie), the recall of re-ranking the top 20
exactly, and of f16 storing x - mean (centering).
"""
import sys
import numpy as np

path, dims = sys.argv[1], int(sys.argv[2])
nq = int(sys.argv[3]) if len(sys.argv) > 3 else 200
a = np.fromfile(path, dtype='<f4').reshape(-1, dims).astype(np.float64)
a /= np.linalg.norm(a, axis=1, keepdims=True)
b, q = a[:-nq], a[-nq:]
mu = b.mean(0)
s = q @ b.T
srt = -np.sort(-s, axis=1)
print('%d vectors, %d queries, %d dims; norm of the mean vector %.4f (1 = all alike)' % (len(b), nq, dims, np.linalg.norm(mu)))
print('true scores: top-1 mean %.5f, 10th mean %.5f; median gap 10th-11th %.2e, 10th-20th %.2e' %
      (srt[:, 0].mean(), srt[:, 9].mean(), np.median(srt[:, 9] - srt[:, 10]), np.median(srt[:, 9] - srt[:, 19])))
truth = [np.argsort(-s[i])[:10] for i in range(nq)]


def recall(sc, tie=0.0):
    r = 0
    for i in range(nq):
        t = set(truth[i])
        kth = s[i][truth[i][-1]]
        r += sum(1 for x in np.argsort(-sc[i])[:10] if x in t or s[i][x] >= kth - tie)
    return r / (10 * nq)


def rerank(sc, top=20):
    r = 0
    for i in range(nq):
        cand = np.argsort(-sc[i])[:top]
        r += len(set(truth[i]) & set(cand[np.argsort(-s[i][cand])][:10]))
    return r / (10 * nq)


q32 = q.astype(np.float32).astype(np.float64)
for name, h in [('f16', b.astype(np.float16).astype(np.float64)), ('f32', b.astype(np.float32).astype(np.float64)),
                ('i8', np.round(b * 127) / 127)]:
    sc = q32 @ h.T
    print('%-4s exact recall@10 %.3f | near-ties (1e-4) as hits %.3f | top-20 re-ranked exactly %.3f | mean |dot error| %.1e' %
          (name, recall(sc), recall(sc, 1e-4), rerank(sc), np.abs(sc - s).mean()))
hc = (b - mu).astype(np.float16).astype(np.float64) + mu
print('f16 of (x - mean): exact recall@10 %.3f' % recall(q32 @ hc.T))
