// BM25 ranking over a Snapshot, document-at-a-time with MaxScore pruning.
//
// Score (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25
// and Beyond", Foundations and Trends in IR 3(4), 2009, eq. 3.15 with the
// Lucene/Robertson-Spärck Jones idf that never goes negative):
//   score(q, d) = sum_t qtf_t * idf_t * tf_td * (k1 + 1) / (tf_td + k1 * (1 - b + b * dl_d / avgdl))
//   idf_t = ln(1 + (N - df_t + 0.5) / (df_t + 0.5))
// k1 and b are options (see the option table); defaults chosen by measuring
// nDCG@10 on BEIR SciFact and PIAF-fr (README).
//
// MaxScore (Turtle & Flood, "Query evaluation: strategies and optimizations",
// IP&M 31(6), 1995): terms whose score upper bounds add up to less than the
// current k-th score cannot alone put a doc in the top k, so only the other
// ("essential") lists generate candidates; the rest are probed with skips.
// Per-block bounds (block-max, Ding & Suel, SIGIR 2011) tighten this further.
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/keyword_index.h"

namespace savoir {

struct Bm25Params {
  float k1 = 0.9f;
  float b = 0.7f;
};

struct QueryTerm {
  std::string term;
  float weight = 1.0f;  // query term frequency (or a boost)
};

struct ChunkHit {
  float score = 0;
  int64_t chunk_id = 0;
  int64_t doc_id = 0;
  int64_t updated_at = 0;
};

// Says which local docs of a segment may be returned. Applied inside posting
// traversal, never after top-k: this is how permissions and filters plug in.
class DocSelector {
 public:
  virtual ~DocSelector() = default;
  // nullopt means "every live doc"; otherwise the allowed local docs.
  virtual std::optional<Roaring> Allowed(const Segment& segment) const = 0;
};

struct SearchCounters {
  uint64_t candidates = 0;  // docs fully or partially scored
  uint64_t segments = 0;
};

// The dictionary entries of a query's terms in each segment of a snapshot,
// each looked up once per query (query analysis asks for document
// frequencies, then the search for the entries of the same terms). Lives no
// longer than the snapshot; one thread.
class TermLookups {
 public:
  explicit TermLookups(const Snapshot& snap) : snap_(snap) {}
  // Element i: the entry in snap.segments[i] (nullopt when absent).
  const std::vector<std::optional<TermInfo>>& Find(std::string_view term);
  // As Snapshot::DocFreq.
  uint64_t DocFreq(std::string_view term);

 private:
  const Snapshot& snap_;
  std::deque<std::pair<std::string, std::vector<std::optional<TermInfo>>>> found_;
};

// Top-k chunks by BM25, best first (ties: lower chunk id first). `lookups`,
// when given, must be over `snap` (it may already hold the query's terms).
std::vector<ChunkHit> SearchBm25(const Snapshot& snap, const std::vector<QueryTerm>& query,
                                 const DocSelector* selector, const Bm25Params& params, size_t k,
                                 SearchCounters* counters = nullptr, TermLookups* lookups = nullptr);

}  // namespace savoir
