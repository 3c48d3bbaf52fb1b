// Hybrid retrieval: the BM25 list (Searcher) and the vector list (the
// serving VectorSpace) fused into one ranking of documents, with the
// permission filter applied inside both searches (the vector index receives
// the allowed chunk ids; nothing is dropped after ranking), then optionally
// reranked by a cross-encoder: a remote /rerank endpoint, or a local GGUF
// model (retrieve/llama_reranker). The keyword-only ranking is reranked too.
//
// Fusion (docs/models.md):
// - "rrf": reciprocal rank fusion, score(d) = sum over lists of 1 / (k + rank),
//   rank from 1; k = --rrf-k (60, as Cormack et al.).
// - "weighted": each list's scores min-max normalized to [0, 1] (absent: 0),
//   score(d) = alpha * vector + (1 - alpha) * bm25, alpha = --fusion-weight.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <roaring/roaring.hh>

#include "common/config.h"
#include "common/status.h"
#include "embed/pipeline.h"
#include "index/keyword_index.h"
#include "retrieve/searcher.h"
#include "store/store.h"

namespace savoir {

enum class RetrievalMode { kAuto, kKeyword, kDense, kHybrid };

// "auto", "bm25", "dense", "hybrid".
Result<RetrievalMode> ParseRetrievalMode(const std::string& name);

struct HybridOptions {
  std::string fusion = "rrf";   // "rrf" or "weighted"
  double rrf_k = 60;
  double weight = 0.5;          // alpha: the vector list's share in weighted fusion
  size_t candidates = 100;      // documents taken from each list before fusing
  size_t rerank_top = 20;       // fused documents the reranker reorders
};

HybridOptions HybridOptionsFrom(const Config& config);

// Fusion of two rankings of documents (best first). The result holds the
// top `n`, each with its fused score and the chunk of the list it ranked
// best in (the BM25 one on ties: its snippet terms match).
std::vector<DocumentHit> FuseRrf(const std::vector<DocumentHit>& keyword, const std::vector<DocumentHit>& dense,
                                 double k, size_t n);
std::vector<DocumentHit> FuseWeighted(const std::vector<DocumentHit>& keyword,
                                      const std::vector<DocumentHit>& dense, double alpha, size_t n);

// The chunk ids `principal` may see under `filters` in this snapshot of the
// keyword index (deleted chunks excluded); nullopt when no filter applies
// (all access and no filters).
std::optional<Roaring> AllowedChunks(const Snapshot& snapshot, const Principal& principal,
                                     const SearchFilters& filters);

// A cross-encoder behind some API: relevance of each document to the query.
class Reranker {
 public:
  virtual ~Reranker() = default;
  virtual std::string name() const = 0;
  // One score per document, in order (higher is more relevant).
  virtual Result<std::vector<float>> Score(const std::string& query, const std::vector<std::string>& documents) = 0;
};

// POST {url} with {"query", "documents", "top_n"} and reads
// {"results": [{"index", "relevance_score"}]} (llama-server --reranking at
// /v1/rerank, TEI's /rerank with "texts" and "score", Jina, Cohere).
// `url` is the full endpoint URL.
std::unique_ptr<Reranker> MakeRemoteReranker(const std::string& url, const std::string& api_key,
                                             const std::string& model = "");

class HybridSearcher {
 public:
  // `vectors` gives the serving space (nullptr: keyword only). `reranker`
  // may be null.
  HybridSearcher(const Searcher& keyword, const KeywordIndex& index, Store& store,
                 std::function<std::shared_ptr<const VectorSpace>()> vectors, HybridOptions options,
                 Reranker* reranker = nullptr)
      : keyword_(keyword), index_(index), store_(store), vectors_(std::move(vectors)),
        options_(std::move(options)), reranker_(reranker) {}

  // kAuto: hybrid when a vector space serves, keyword otherwise.
  Result<std::vector<DocumentHit>> Search(const SearchRequest& request, AnalyzedQuery* analyzed = nullptr,
                                          RetrievalMode mode = RetrievalMode::kAuto) const;
  // Whether kAuto would use vectors now.
  bool HasVectors() const;
  const HybridOptions& options() const { return options_; }

 private:
  Result<std::vector<DocumentHit>> Dense(const VectorSpace& space, const SearchRequest& request,
                                         const Snapshot& snap, size_t n) const;
  void Rerank(const std::string& query, std::vector<DocumentHit>* hits) const;

  const Searcher& keyword_;
  const KeywordIndex& index_;
  Store& store_;
  std::function<std::shared_ptr<const VectorSpace>()> vectors_;
  HybridOptions options_;
  Reranker* reranker_;
};

}  // namespace savoir
