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
  // Skip data, read without decoding: the list's blocks, the bound of each
  // block's scores (from its max tf and min length), and a "shallow" block
  // index that only moves forward (the block that would hold the next
  // target), so that bounds of lagging lists cost no rescan.
  const segfmt::BlockMeta* metas = nullptr;
  uint32_t n_blocks = 0;
  uint32_t shallow = 0;
  const float* block_ub = nullptr;

  // Index of the block the cursor is in (valid while doc() != kEnd).
  uint32_t CursorBlock() const { return static_cast<uint32_t>(&cursor.block() - metas); }
  // Moves the shallow block to the one whose range would hold `target`;
  // false when the list has no doc >= target.
  bool ShallowTo(uint32_t target) {
    if (shallow < n_blocks && metas[shallow].last_doc >= target) return true;
    while (shallow < n_blocks && metas[shallow].last_doc < target) ++shallow;
    return shallow < n_blocks;
  }
};

void SearchSegment(const SegmentView& view, const std::vector<std::pair<std::string, float>>& terms,
                   const DocSelector* selector, const Scorer& scorer, size_t k, TopK* heap,
                   SearchCounters* counters) {
  const Segment& seg = *view.segment;
  // The segment's dictionary entries of the query terms, decoded once and
  // kept here for the cursors (which point at them).
  struct Found {
    segfmt::TermInfo info;
    float idfw, ub;
  };
  std::vector<Found> found;
  found.reserve(terms.size());
  for (const auto& [term, idfw] : terms) {
    auto info = seg.Find(term);
    if (!info || info->df == 0) continue;
    found.push_back(Found{*info, idfw, scorer.TermScore(idfw, info->max_tf, info->min_len)});
  }
  if (found.empty()) return;

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
  for (const auto& f : found) postings += f.info.df;
  const bool leapfrog = allowed && allowed->cardinality() * found.size() < 2 * postings;
  // The allowed set already excludes deleted docs.
  const Roaring* check = (allowed && !leapfrog) ? &*allowed : nullptr;
  const Roaring* deleted = (allowed || view.deleted->isEmpty()) ? nullptr : view.deleted.get();
  roaring_uint32_iterator_t allow_it;
  if (leapfrog) roaring_init_iterator(&allowed->roaring, &allow_it);

  // Ascending upper bounds; prefix[i] = sum of ub[0..i].
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.ub < b.ub; });
  const size_t n = found.size();
  size_t total_blocks = 0;
  for (const auto& f : found) total_blocks += f.info.n_blocks;
  std::vector<float> block_ubs(total_blocks);
  std::vector<TermState> st(n);  // cursors are large: built in place, never moved
  std::vector<float> prefix(n);
  float acc = 0;
  for (size_t i = 0, off = 0; i < n; ++i) {
    const Found& f = found[i];
    TermState& t = st[i];
    t.cursor = seg.Postings(&f.info);
    t.idfw = f.idfw;
    t.ub = f.ub;
    t.metas = reinterpret_cast<const segfmt::BlockMeta*>(seg.postings_base() + f.info.postings);
    t.n_blocks = f.info.n_blocks;
    float* bub = block_ubs.data() + off;
    for (uint32_t b = 0; b < t.n_blocks; ++b) bub[b] = scorer.TermScore(f.idfw, t.metas[b].max_tf, t.metas[b].min_len);
    t.block_ub = bub;
    off += t.n_blocks;
    prefix[i] = (acc += f.ub);
  }

  float theta = heap->size() >= k ? heap->top().score : 0.0f;
  size_t first_essential = 0;
  while (first_essential < n && prefix[first_essential] <= theta) ++first_essential;

  uint32_t checked_upto = 0;
  float checked_theta = -1.0f;
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
    }

    if (heap->size() >= k && (cand > checked_upto || theta != checked_theta)) {
      // Block-max MaxScore (Chakrabarti et al., WSDM 2011; Mallia et al.,
      // SIGIR 2019): every list's current block bounds its scores up to the
      // block's last doc, so up to the smallest of those last docs no doc
      // can score more than the sum of the block bounds. When that sum
      // cannot beat the k-th score, the essential lists jump past the whole
      // range without decoding what lies in between.
      uint32_t upto = PostingCursor::kEnd;
      float range_bound = 0;
      for (size_t i = first_essential; i < n; ++i) {
        TermState& t = st[i];
        if (t.cursor.doc() == PostingCursor::kEnd) continue;
        uint32_t b = t.CursorBlock();
        range_bound += t.block_ub[b];
        upto = std::min(upto, t.metas[b].last_doc);
      }
      for (size_t i = 0; i < first_essential; ++i) {
        TermState& t = st[i];
        if (!t.ShallowTo(cand)) continue;
        range_bound += t.block_ub[t.shallow];
        upto = std::min(upto, t.metas[t.shallow].last_doc);
      }
      if (range_bound <= theta) {
        if (upto == PostingCursor::kEnd) break;  // no list goes further
        for (size_t i = first_essential; i < n; ++i) st[i].cursor.Advance(upto + 1);
        continue;
      }
      // Candidates up to `upto` need not check this range again until the
      // k-th score moves.
      checked_upto = upto;
      checked_theta = theta;
    }

    if (!leapfrog && ((check && !check->contains(cand)) || (deleted && deleted->contains(cand)))) {
      for (size_t i = first_essential; i < n; ++i)
        if (st[i].cursor.doc() == cand) st[i].cursor.Next();
      continue;
    }

    if (heap->size() >= k) {
      // This candidate's own bound: the block bounds of the lists that hold
      // it; most candidates of long lists stop here without decoding the
      // non-essential lists.
      float bound = 0;
      for (size_t i = first_essential; i < n; ++i)
        if (st[i].cursor.doc() == cand) bound += st[i].block_ub[st[i].CursorBlock()];
      for (size_t i = 0; i < first_essential && bound <= theta; ++i)
        if (st[i].ShallowTo(cand)) bound += st[i].block_ub[st[i].shallow];
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
