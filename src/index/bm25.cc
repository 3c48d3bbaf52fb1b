#include "index/bm25.h"

#include <roaring/roaring.h>

#include <algorithm>
#include <cmath>
#include <queue>

namespace savoir {
namespace {

struct HitOrder {
  // Min-heap on score; among equal scores the higher chunk id is evicted first.
  bool operator()(const ChunkHit& a, const ChunkHit& b) const {
    if (a.score != b.score) return a.score > b.score;
    return a.chunk_id < b.chunk_id;
  }
};
using TopK = std::priority_queue<ChunkHit, std::vector<ChunkHit>, HitOrder>;

struct Scorer {
  float k1, b, avgdl;
  float TermScore(float idfw, uint32_t tf, uint32_t dl) const {
    float norm = k1 * (1.0f - b + b * static_cast<float>(dl) / avgdl);
    return idfw * tf * (k1 + 1.0f) / (tf + norm);
  }
};

struct TermState {
  PostingCursor cursor;
  float idfw;  // idf * query weight
  float ub;    // upper bound of this term's contribution in this segment
};

void SearchSegment(const SegmentView& view, const std::vector<std::pair<std::string, float>>& terms,
                   const DocSelector* selector, const Scorer& scorer, size_t k, TopK* heap,
                   SearchCounters* counters) {
  const Segment& seg = *view.segment;
  std::vector<TermState> st;
  for (const auto& [term, idfw] : terms) {
    const auto info = seg.Find(term);
    if (!info) continue;
    TermState ts{seg.Postings(*info), idfw, scorer.TermScore(idfw, info->max_tf, info->min_len)};
    st.push_back(std::move(ts));
  }
  if (st.empty()) return;

  std::optional<Roaring> allowed;
  if (selector) {
    allowed = selector->Allowed(seg);
    if (allowed) {
      *allowed -= *view.deleted;
      if (allowed->isEmpty()) return;
    }
  }
  // A narrow allowed set drives the traversal (leapfrog: the lists skip to
  // the next allowed doc, whole blocks at a time); a wide one is cheaper to
  // test per candidate, like deletions. Cost model, checked with
  // bench/keyword_bench's selectivity tables on SciFact and the 200k corpus:
  // leapfrogging costs about one seek per allowed doc and term, testing one
  // bitmap probe per posting; a seek is worth about two probes.
  uint64_t postings = 0;
  for (const auto& t : st) postings += t.cursor.df();
  const bool leapfrog = allowed && allowed->cardinality() * st.size() < 2 * postings;
  // The allowed set already excludes deleted docs.
  const Roaring* check = (allowed && !leapfrog) ? &*allowed : nullptr;
  const Roaring* deleted = (allowed || view.deleted->isEmpty()) ? nullptr : view.deleted.get();
  roaring_uint32_iterator_t allow_it;
  if (leapfrog) roaring_init_iterator(&allowed->roaring, &allow_it);

  // Ascending upper bounds; prefix[i] = sum of ub[0..i].
  std::sort(st.begin(), st.end(), [](const TermState& a, const TermState& b) { return a.ub < b.ub; });
  const size_t n = st.size();
  std::vector<float> prefix(n);
  float acc = 0;
  for (size_t i = 0; i < n; ++i) prefix[i] = (acc += st[i].ub);

  float theta = heap->size() >= k ? heap->top().score : 0.0f;
  size_t first_essential = 0;
  while (first_essential < n && prefix[first_essential] <= theta) ++first_essential;

  while (first_essential < n) {
    uint32_t cand = PostingCursor::kEnd;
    for (size_t i = first_essential; i < n; ++i) cand = std::min(cand, st[i].cursor.doc());
    if (cand == PostingCursor::kEnd) break;

    if (leapfrog) {
      if (!roaring_move_uint32_iterator_equalorlarger(&allow_it, cand)) break;
      uint32_t next = allow_it.current_value;
      if (next != cand) {
        for (size_t i = first_essential; i < n; ++i) st[i].cursor.Advance(next);
        continue;
      }
    } else if ((check && !check->contains(cand)) || (deleted && deleted->contains(cand))) {
      for (size_t i = first_essential; i < n; ++i)
        if (st[i].cursor.doc() == cand) st[i].cursor.Next();
      continue;
    }

    if (heap->size() >= k) {
      // Block-max bound: the per-block (max tf, min length) of every list
      // bounds what this candidate can score; most candidates of long lists
      // stop here without decoding the non-essential lists.
      float bound = 0;
      for (size_t i = first_essential; i < n; ++i)
        if (st[i].cursor.doc() == cand)
          bound += scorer.TermScore(st[i].idfw, st[i].cursor.block().max_tf, st[i].cursor.block().min_len);
      for (size_t i = 0; i < first_essential && bound <= theta; ++i)
        if (const auto* m = st[i].cursor.BlockFor(cand)) bound += scorer.TermScore(st[i].idfw, m->max_tf, m->min_len);
      if (bound <= theta) {
        for (size_t i = first_essential; i < n; ++i)
          if (st[i].cursor.doc() == cand) st[i].cursor.Next();
        continue;
      }
    }
    const uint32_t dl = seg.doc_len(cand);
    float score = 0;
    for (size_t i = first_essential; i < n; ++i) {
      if (st[i].cursor.doc() == cand) {
        score += scorer.TermScore(st[i].idfw, st[i].cursor.freq(), dl);
        st[i].cursor.Next();
      }
    }
    ++counters->candidates;
    for (size_t i = first_essential; i-- > 0;) {
      if (score + prefix[i] <= theta) break;
      st[i].cursor.Advance(cand);
      if (st[i].cursor.doc() == cand) score += scorer.TermScore(st[i].idfw, st[i].cursor.freq(), dl);
    }
    if (heap->size() < k || score > theta) {
      heap->push(ChunkHit{score, seg.chunk_id(cand), seg.doc_id(cand), seg.updated_at(cand)});
      if (heap->size() > k) heap->pop();
      if (heap->size() >= k) {
        theta = heap->top().score;
        while (first_essential < n && prefix[first_essential] <= theta) ++first_essential;
      }
    }
  }
}

}  // namespace

std::vector<ChunkHit> SearchBm25(const Snapshot& snap, const std::vector<QueryTerm>& query,
                                 const DocSelector* selector, const Bm25Params& params, size_t k,
                                 SearchCounters* counters) {
  SearchCounters local;
  if (!counters) counters = &local;
  std::vector<ChunkHit> out;
  if (k == 0 || snap.live_docs == 0) return out;

  // Merge duplicate terms into one weighted term; compute global idf.
  std::vector<std::pair<std::string, float>> terms;
  for (const auto& q : query) {
    auto it = std::find_if(terms.begin(), terms.end(), [&](auto& t) { return t.first == q.term; });
    if (it != terms.end()) it->second += q.weight;
    else terms.emplace_back(q.term, q.weight);
  }
  const double N = static_cast<double>(snap.live_docs);
  for (auto& [term, w] : terms) {
    double df = std::min(N, static_cast<double>(snap.DocFreq(term)));
    w *= static_cast<float>(std::log(1.0 + (N - df + 0.5) / (df + 0.5)));
  }
  Scorer scorer{params.k1, params.b, static_cast<float>(snap.avg_len())};
  TopK heap;
  for (const auto& view : snap.segments) {
    if (view.live_docs == 0) continue;
    ++counters->segments;
    SearchSegment(view, terms, selector, scorer, k, &heap, counters);
  }
  out.resize(heap.size());
  for (size_t i = heap.size(); i-- > 0;) {
    out[i] = heap.top();
    heap.pop();
  }
  return out;
}

}  // namespace savoir
