#include "index/bm25.h"

#include <roaring/roaring.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <queue>
#include <type_traits>

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
  // The length part of the denominator, k1 * (1 - b + b * dl / avgdl): the
  // same for every term of a doc, so the term-at-a-time search reads it
  // from a per-segment table (NormTables) instead of computing it per
  // posting. The operations are the same, so the scores are bit for bit.
  float Norm(uint32_t dl) const { return k1 * (1.0f - b + b * static_cast<float>(dl) / avgdl); }
  float Score(float idfw, uint32_t tf, float norm) const { return idfw * tf * (k1 + 1.0f) / (tf + norm); }
  float TermScore(float idfw, uint32_t tf, uint32_t dl) const { return Score(idfw, tf, Norm(dl)); }
};

// Per segment, Scorer::Norm of every local doc for the current (k1, b,
// avgdl), kept while the segment lives: avgdl changes with each commit, so a
// table is rebuilt (4 bytes a doc) once per segment and snapshot, then shared
// by every query on it.
class NormTables {
 public:
  static std::shared_ptr<const std::vector<float>> For(const std::shared_ptr<Segment>& seg, const Scorer& s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const Entry& e : entries_)
        // A live entry with the same address is this very segment.
        if (e.raw == seg.get() && e.k1 == s.k1 && e.b == s.b && e.avgdl == s.avgdl && !e.segment.expired())
          return e.norms;
    }
    auto table = std::make_shared<std::vector<float>>(seg->n_docs());
    for (uint32_t d = 0; d < seg->n_docs(); ++d) (*table)[d] = s.Norm(seg->doc_len(d));
    std::lock_guard<std::mutex> lock(mu_);
    // One table per live segment: older parameters and dead segments go.
    std::erase_if(entries_, [&](const Entry& e) { return e.segment.expired() || e.raw == seg.get(); });
    entries_.push_back(Entry{seg, seg.get(), s.k1, s.b, s.avgdl, table});
    return table;
  }

 private:
  struct Entry {
    std::weak_ptr<Segment> segment;
    const Segment* raw;
    float k1, b, avgdl;
    std::shared_ptr<const std::vector<float>> norms;
  };
  static inline std::mutex mu_;
  static inline std::vector<Entry> entries_;
};

// A block bound must not fall below a score of that block through float
// rounding (the bound and the score are computed apart): pruning by bounds
// compares the bound raised by this factor.
constexpr float kBoundSlack = 1.0f + 1.0f / 65536;

// Probing a list for candidates costs a few branches each (block, bound,
// position); reading the whole list costs a little per posting. The list is
// read in full when the candidates are at least 1/kDenseProbe of its length.
constexpr size_t kDenseProbe = 8;

struct TermState {
  PostingCursor cursor;
  float idfw;  // idf * query weight
  float ub;    // upper bound of this term's contribution in this segment
  // Skip data, read without decoding: the list's blocks, the bound of each
  // block's scores (from its max tf and min length), and a "shallow" block
  // index that only moves forward (the block that would hold the next
  // target), so that bounds of lagging lists cost no rescan.
  uint32_t n_blocks = 0;
  uint32_t shallow = 0;
  const float* block_ub = nullptr;

  // Index of the block the cursor is in (valid while doc() != kEnd).
  uint32_t CursorBlock() const { return cursor.block_index(); }
  const segfmt::BlockMeta& meta(uint32_t b) const { return cursor.meta(b); }
  // Moves the shallow block to the one whose range would hold `target`;
  // false when the list has no doc >= target.
  bool ShallowTo(uint32_t target) {
    if (shallow < n_blocks && meta(shallow).last_doc >= target) return true;
    while (shallow < n_blocks && meta(shallow).last_doc < target) ++shallow;
    return shallow < n_blocks;
  }
};

// A query term found in a segment: its dictionary entry (decoded by value,
// kept alive for the cursors that point at it), idf * weight, score bound.
struct Found {
  TermInfo info;
  float idfw, ub;
};

// Scratch of the term-at-a-time search, reused across queries:
// `acc` is all zeros between calls (sized to the largest segment seen).
struct Accumulators {
  std::vector<float> acc;
  std::vector<uint32_t> touched, cands;
  std::vector<float> scratch;
  std::vector<uint64_t> bits;
  std::vector<uint64_t> visible;  // docs that may be found, one bit each
};

// Scratch buffers are lent from a shared pool rather than kept per thread:
// the server has many threads but only a few search at once (WorkGate), and
// an accumulator array is 4 bytes per doc of the largest segment.
class AccumulatorLease {
 public:
  AccumulatorLease() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      acc_ = std::move(free_.back());
      free_.pop_back();
    }
    if (!acc_) acc_ = std::make_unique<Accumulators>();
  }
  ~AccumulatorLease() {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(acc_));
  }
  Accumulators& operator*() { return *acc_; }

 private:
  std::unique_ptr<Accumulators> acc_;
  static inline std::mutex mu_;
  static inline std::vector<std::unique_ptr<Accumulators>> free_;
};

// How many of `docs` have a partial score >= `bound`, counting up to `k`
// (at least; counted without a branch per doc, which would be mispredicted
// about as often as it is taken, 64 docs between tests of the count).
size_t CountAtLeast(const float* acc, const std::vector<uint32_t>& docs, float bound, size_t k) {
  size_t count = 0;
  const size_t n = docs.size();
  for (size_t i = 0; i < n && count < k;) {
    const size_t end = std::min(n, i + 64);
    for (; i < end; ++i) count += acc[docs[i]] >= bound;
  }
  return count;
}

// Keeps the docs of `docs` whose accumulator plus `left` reaches `theta`, in
// order, without a branch per doc (whether one stays is unpredictable).
void KeepReaching(const float* acc, float left, float theta, std::vector<uint32_t>* docs) {
  uint32_t* p = docs->data();
  const size_t n = docs->size();
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t d = p[i];
    p[kept] = d;
    kept += !(acc[d] + left < theta);
  }
  docs->resize(kept);
}

// The k-th largest partial score among `docs` (-1 when fewer than k): one
// pass with a min-heap of the k best, which most docs fail at first compare.
float KthScore(const std::vector<float>& acc, const std::vector<uint32_t>& docs, size_t k,
               std::vector<float>* heap) {
  if (docs.size() < k) return -1.0f;
  heap->assign(k, -1.0f);
  std::make_heap(heap->begin(), heap->end(), std::greater<float>());
  for (uint32_t d : docs) {
    const float a = acc[d];
    if (a <= heap->front()) continue;
    std::pop_heap(heap->begin(), heap->end(), std::greater<float>());
    heap->back() = a;
    std::push_heap(heap->begin(), heap->end(), std::greater<float>());
  }
  return heap->front();
}

// Term-at-a-time with accumulators, exact (the same top k as the
// document-at-a-time MaxScore below, ties aside). Long queries whose k-th
// score stays below most terms' bounds leave MaxScore nothing to prune:
// nearly every doc of every list is a candidate, and each candidate costs a
// pass over all cursors. Here a posting costs one decode and one add.
// Terms go in decreasing bound order (rare terms first); before each long
// list, when the bounds of the terms left cannot lift a doc not yet seen
// above the k-th partial score (a lower bound of the final one), the
// search stops discovering docs: the remaining lists are only probed, with
// skips, for the docs that can still make the top k (Moffat & Zobel's
// "continue" strategy, made exact by the bounds). A remaining list is read
// whole, adding only to candidates (a bitmap), while the candidates are
// many for its length; otherwise each candidate is probed, and dropped
// without decoding when its partial score plus the bound of the list's
// block that would hold it (block-max) and the bounds of the lists after
// cannot reach the k-th score.
// Only docs in `allowed` (null: all) and not in `deleted` (null: none) can
// be found; a bit of a bitset is tested per posting read (a doc turned away
// keeps a zero score and is never a candidate), so the cost follows the
// postings read, and the passes over the candidates shrink with the filter.
void SearchSegmentTaat(const Segment& seg, const float* norm, std::vector<Found>& found, const Roaring* allowed,
                       const Roaring* deleted, const Scorer& scorer_ref, size_t k, TopK* heap,
                       SearchCounters* counters) {
  // A copy: stores to the accumulators cannot alias it, so the loops keep
  // k1 and b in registers.
  const Scorer scorer = scorer_ref;
  AccumulatorLease lease;
  Accumulators& tl = *lease;
  const uint32_t nd = seg.n_docs();
  if (tl.acc.size() < nd) tl.acc.resize(nd, 0.0f);
  float* acc = tl.acc.data();
  std::vector<uint32_t>& touched = tl.touched;
  std::vector<uint32_t>& cands = tl.cands;
  touched.clear();
  cands.clear();
  // The docs that may be found, as a plain bitset: one bit test per doc
  // reached, where a Roaring lookup cost as much as the scoring (built in
  // time proportional to the allowed or deleted set, plus nd / 64 words).
  const bool filtered = allowed || deleted;
  const uint64_t* visible = nullptr;
  if (filtered) {
    std::vector<uint64_t>& bits = tl.visible;
    if (allowed) {
      bits.assign((nd + 63) / 64, 0);
      for (uint32_t d : *allowed)
        if (d < nd) bits[d >> 6] |= uint64_t{1} << (d & 63);
    } else {
      bits.assign((nd + 63) / 64, ~uint64_t{0});
    }
    if (deleted)
      for (uint32_t d : *deleted)
        if (d < nd) bits[d >> 6] &= ~(uint64_t{1} << (d & 63));
    visible = bits.data();
  }

  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.ub > b.ub; });
  const size_t n = found.size();
  std::vector<float> rest(n + 1, 0.0f);  // rest[j] = bound of terms j.. together
  for (size_t j = n; j-- > 0;) rest[j] = rest[j + 1] + found[j].ub;
  float theta = heap->size() >= k ? heap->top().score : -1.0f;

  float max_acc = 0;  // the best partial score so far: cheap test before counting
  size_t j = 0;
  for (; j < n; ++j) {
    const Found& f = found[j];
    if (j > 0 && (theta >= rest[j] || (max_acc >= rest[j] && CountAtLeast(acc, touched, rest[j], k) >= k)))
      break;  // no doc not seen yet can make the top k
    PostingCursor c = seg.Postings(f.info);
    const float idfw = f.idfw;
    // Room for every doc of the list, so that the loop below makes no call
    // (the best partial score then stays in a register).
    size_t n_touched = touched.size();
    touched.resize(n_touched + f.info.df);
    uint32_t* const out = touched.data();
    float best = max_acc;
    // A decoded block at a time, straight from the cursor's arrays.
    for (bool more = c.doc() != PostingCursor::kEnd; more; more = c.SeekBlock(c.block_index() + 1)) {
      const uint32_t* docs = c.block_docs();
      const uint32_t* tfs = c.block_freqs();
      const uint32_t m = c.block_size();
      // No branch per posting: a doc reached for the first time is written
      // at the end of `touched` either way and kept there only when its
      // partial score was still zero and (with a filter) it may be found; a
      // doc the filter turns away gets nothing added (s * 0), so it stays at
      // zero and is never kept. The best partial score is kept in four
      // running maxima: one would chain every posting to the one before (a
      // max's latency each), which the compiler had made the loop's
      // bottleneck.
      float b0 = best, b1 = best, b2 = best, b3 = best;
      auto walk = [&](auto filtered) {
        auto one = [&](uint32_t at, float& bm) {
          const uint32_t d = docs[at];
          const float a = acc[d];
          float sc = scorer.Score(idfw, tfs[at], norm[d]);
          out[n_touched] = d;
          if constexpr (decltype(filtered)::value) {
            const uint32_t may = (visible[d >> 6] >> (d & 63)) & 1;
            n_touched += (a == 0.0f) & may;
            sc *= static_cast<float>(may);
          } else {
            n_touched += a == 0.0f;
          }
          const float v = a + sc;
          acc[d] = v;
          bm = std::max(bm, v);
        };
        uint32_t i = 0;
        for (; i + 4 <= m; i += 4) {
          one(i, b0);
          one(i + 1, b1);
          one(i + 2, b2);
          one(i + 3, b3);
        }
        for (; i < m; ++i) one(i, b0);
      };
      if (visible) walk(std::true_type{});
      else walk(std::false_type{});
      best = std::max(std::max(b0, b1), std::max(b2, b3));
    }
    touched.resize(n_touched);
    max_acc = best;
  }
  counters->candidates += touched.size();
  theta = std::max(theta, KthScore(tl.acc, touched, k, &tl.scratch));

  if (j < n) {
    // Only docs whose partial score plus the bounds left reaches theta (ties
    // kept: a tiny bound can vanish in the float sum), in doc order (a bitmap
    // of the segment's docs sorts them).
    std::vector<uint64_t>& bits = tl.bits;
    bits.assign((nd + 63) / 64, 0);
    for (uint32_t d : touched) bits[d >> 6] |= uint64_t{acc[d] + rest[j] >= theta} << (d & 63);
    for (size_t w = 0; w < bits.size(); ++w)
      for (uint64_t x = bits[w]; x; x &= x - 1) cands.push_back(static_cast<uint32_t>(w * 64 + __builtin_ctzll(x)));
    for (; j < n && !cands.empty(); ++j) {
      const Found& f = found[j];
      const float left = rest[j + 1];
      if (cands.size() * kDenseProbe >= f.info.df) {
        // Candidates dense in this list: read it all and add each posting's
        // score where the doc is a candidate (a bit of `bits`; docs dropped
        // since keep their bit, and their accumulator is no longer read),
        // without a branch: x + 0 is x.
        PostingCursor c = seg.Postings(f.info);
        const uint64_t* is_cand = bits.data();
        const float idfw = f.idfw;
        for (bool more = c.doc() != PostingCursor::kEnd; more; more = c.SeekBlock(c.block_index() + 1)) {
          const uint32_t* docs = c.block_docs();
          const uint32_t* tfs = c.block_freqs();
          const uint32_t m = c.block_size();
          for (uint32_t i = 0; i < m; ++i) {
            const uint32_t d = docs[i];
            const float s = scorer.Score(idfw, tfs[i], norm[d]);
            // s * 1 is s and s * 0 is 0 (s is finite): a product, where a
            // select would be compiled into an unpredictable branch.
            acc[d] += s * static_cast<float>((is_cand[d >> 6] >> (d & 63)) & 1);
          }
        }
        theta = std::max(theta, KthScore(tl.acc, cands, k, &tl.scratch));
        // Strictly below: theta may be the score of one of these very docs.
        KeepReaching(acc, left, theta, &cands);
        continue;
      }
      PostingCursor c = seg.Postings(f.info);  // block 0 decoded
      const uint32_t nb = c.n_blocks();
      // Block-max: a candidate whose partial score plus this block's bound
      // and the bounds of the lists left stays below theta cannot make the
      // top k; it is dropped here, and a block none of the candidates left
      // falls in is never decoded.
      uint32_t b = 0, loaded = 0, pos = 0;
      float block_bound = scorer.TermScore(f.idfw, c.meta(0).max_tf, c.meta(0).min_len) + left;
      // The k best partial scores of the candidates kept, as they are
      // completed by this list (a min-heap: its top is the k-th).
      std::vector<float>& best = tl.scratch;
      best.assign(k, -1.0f);
      auto keep = [&](float a) {
        if (a <= best.front()) return;
        std::pop_heap(best.begin(), best.end(), std::greater<float>());
        best.back() = a;
        std::push_heap(best.begin(), best.end(), std::greater<float>());
      };
      size_t kept = 0;
      for (size_t ci = 0; ci < cands.size(); ++ci) {
        const uint32_t d = cands[ci];
        if (b < nb && c.meta(b).last_doc < d) {
          while (b < nb && c.meta(b).last_doc < d) ++b;
          if (b < nb) block_bound = scorer.TermScore(f.idfw, c.meta(b).max_tf, c.meta(b).min_len) + left;
        }
        if (b == nb) {  // past the list's last doc: nothing to add
          if ((acc[d] + left) * kBoundSlack < theta) continue;
          keep(acc[d]);
          cands[kept++] = d;
          continue;
        }
        // Also drops what the bounds of the lists before this one already
        // ruled out (the block bound is at most the list's).
        if ((acc[d] + block_bound) * kBoundSlack < theta) continue;
        if (b != loaded) {
          c.SeekBlock(b);
          loaded = b;
          pos = 0;
        }
        const uint32_t* docs = c.block_docs();
        while (docs[pos] < d) ++pos;  // the block's last doc is >= d
        if (docs[pos] == d) acc[d] += scorer.Score(f.idfw, c.block_freqs()[pos], norm[d]);
        keep(acc[d]);
        cands[kept++] = d;
      }
      cands.resize(kept);
      // Complete scores raise the k-th partial score: fewer docs to probe
      // next (those below it are dropped by the next list's loop, or below).
      if (kept >= k) theta = std::max(theta, best.front());
    }
    // Strictly below: theta may be the score of one of these very docs.
    KeepReaching(acc, 0.0f, theta, &cands);
  } else {
    // Docs below the k-th score cannot enter; the others go in doc order,
    // as the document-at-a-time search would have pushed them.
    for (uint32_t d : touched)
      if (acc[d] >= theta) cands.push_back(d);
    std::sort(cands.begin(), cands.end());
  }
  const std::vector<uint32_t>* result = &cands;
  for (uint32_t d : *result) {
    const float score = acc[d];
    if (heap->size() < k || score > heap->top().score) {
      heap->push(ChunkHit{score, seg.chunk_id(d), seg.doc_id(d), seg.updated_at(d)});
      if (heap->size() > k) heap->pop();
    }
  }
  // Back to all zeros for the next call.
  for (uint32_t d : touched) acc[d] = 0.0f;
}

// A query term: idf * weight, and its entry in each segment.
struct WeightedTerm {
  float idfw;
  const std::vector<std::optional<TermInfo>>* infos;
};

void SearchSegment(const SegmentView& view, size_t seg_index, const std::vector<WeightedTerm>& terms,
                   const DocSelector* selector, const Scorer& scorer, size_t k, TopK* heap,
                   SearchCounters* counters) {
  const Segment& seg = *view.segment;
  // The segment's dictionary entries of the query terms, decoded once and
  // kept here for the cursors (which point at them).
  std::vector<Found> found;
  found.reserve(terms.size());
  for (const auto& t : terms) {
    const auto& info = (*t.infos)[seg_index];
    if (!info || info->df == 0) continue;
    found.push_back(Found{*info, t.idfw, scorer.TermScore(t.idfw, info->max_tf, info->min_len)});
  }
  if (found.empty()) return;

  std::optional<Roaring> allowed;
  if (selector) {
    allowed = selector->Allowed(seg);
    if (allowed) {
      *allowed -= *view.deleted;
      if (allowed->isEmpty()) return;
      // Every live doc allowed (a principal who sees the whole segment):
      // no filter, rather than a bitset built doc by doc for each query
      // (2.5x the search's time at a million chunks).
      if (allowed->cardinality() + view.deleted->cardinality() >= seg.n_docs()) allowed.reset();
    }
  }
  // A narrow allowed set drives the traversal (leapfrog: the lists skip to
  // the next allowed doc, whole blocks at a time); a wide one is cheaper to
  // test per doc reached, in the term-at-a-time search (one bit of a
  // bitset). Cost model, checked with bench/keyword_bench's selectivity
  // tables on SciFact and PIAF: leapfrogging costs about one seek per
  // allowed doc and term, worth about four postings read term at a time
  // (the filtered term-at-a-time loop has no branch per posting).
  uint64_t postings = 0;
  for (const auto& f : found) postings += f.info.df;
  const bool leapfrog = allowed && 4 * allowed->cardinality() * found.size() < postings;
  // The allowed set already excludes deleted docs.
  const Roaring* check = (allowed && !leapfrog) ? &*allowed : nullptr;
  const Roaring* deleted = (allowed || view.deleted->isEmpty()) ? nullptr : view.deleted.get();
  if (!leapfrog) {
    const auto norms = NormTables::For(view.segment, scorer);
    SearchSegmentTaat(seg, norms->data(), found, check, deleted, scorer, k, heap, counters);
    return;
  }
  roaring_uint32_iterator_t allow_it;
  roaring_init_iterator(&allowed->roaring, &allow_it);

  // Ascending upper bounds; prefix[i] = sum of ub[0..i].
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.ub < b.ub; });
  const size_t n = found.size();
  size_t total_blocks = 0;
  for (const auto& f : found) total_blocks += (f.info.df + segfmt::kBlockSize - 1) / segfmt::kBlockSize;
  std::vector<float> block_ubs(total_blocks);
  std::vector<TermState> st(n);  // cursors are large: built in place, never moved
  std::vector<float> prefix(n);
  float acc = 0;
  for (size_t i = 0, off = 0; i < n; ++i) {
    const Found& f = found[i];
    TermState& t = st[i];
    t.cursor = seg.Postings(f.info);
    t.idfw = f.idfw;
    t.ub = f.ub;
    t.n_blocks = t.cursor.n_blocks();
    float* bub = block_ubs.data() + off;
    for (uint32_t b = 0; b < t.n_blocks; ++b) bub[b] = scorer.TermScore(f.idfw, t.meta(b).max_tf, t.meta(b).min_len);
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
        upto = std::min(upto, t.meta(b).last_doc);
      }
      for (size_t i = 0; i < first_essential; ++i) {
        TermState& t = st[i];
        if (!t.ShallowTo(cand)) continue;
        range_bound += t.block_ub[t.shallow];
        upto = std::min(upto, t.meta(t.shallow).last_doc);
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

const std::vector<std::optional<TermInfo>>& TermLookups::Find(std::string_view term) {
  for (const auto& [t, infos] : found_)
    if (t == term) return infos;
  std::vector<std::optional<TermInfo>> infos;
  infos.reserve(snap_.segments.size());
  for (const auto& v : snap_.segments) infos.push_back(v.segment->FindIndexed(term));
  return found_.emplace_back(std::string(term), std::move(infos)).second;
}

uint64_t TermLookups::DocFreq(std::string_view term) {
  uint64_t df = 0;
  for (const auto& info : Find(term))
    if (info) df += info->df;
  return df;
}

std::vector<ChunkHit> SearchBm25(const Snapshot& snap, const std::vector<QueryTerm>& query,
                                 const DocSelector* selector, const Bm25Params& params, size_t k,
                                 SearchCounters* counters, TermLookups* lookups) {
  SearchCounters local;
  if (!counters) counters = &local;
  std::vector<ChunkHit> out;
  if (k == 0 || snap.live_docs == 0) return out;
  std::optional<TermLookups> own;
  if (!lookups) lookups = &own.emplace(snap);

  // Merge duplicate terms into one weighted term; compute global idf.
  std::vector<std::pair<std::string, float>> terms;
  for (const auto& q : query) {
    auto it = std::find_if(terms.begin(), terms.end(), [&](auto& t) { return t.first == q.term; });
    if (it != terms.end()) it->second += q.weight;
    else terms.emplace_back(q.term, q.weight);
  }
  const double N = static_cast<double>(snap.live_docs);
  std::vector<WeightedTerm> weighted;
  weighted.reserve(terms.size());
  for (auto& [term, w] : terms) {
    double df = std::min(N, static_cast<double>(lookups->DocFreq(term)));
    w *= static_cast<float>(std::log(1.0 + (N - df + 0.5) / (df + 0.5)));
    weighted.push_back(WeightedTerm{w, &lookups->Find(term)});
  }
  Scorer scorer{params.k1, params.b, static_cast<float>(snap.avg_len())};
  TopK heap;
  for (size_t i = 0; i < snap.segments.size(); ++i) {
    const SegmentView& view = snap.segments[i];
    if (view.live_docs == 0) continue;
    ++counters->segments;
    SearchSegment(view, i, weighted, selector, scorer, k, &heap, counters);
  }
  out.resize(heap.size());
  for (size_t i = heap.size(); i-- > 0;) {
    out[i] = heap.top();
    heap.pop();
  }
  return out;
}

}  // namespace savoir
