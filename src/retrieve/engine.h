// An open data folder: the store, the keyword index derived from it, and a
// searcher over both. The CLI and the server each hold one.
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "index/keyword_index.h"
#include "ingest/index_builder.h"
#include "ingest/ingestor.h"
#include "embed/embedder.h"
#include "embed/pipeline.h"
#include "retrieve/hybrid.h"
#include "retrieve/searcher.h"
#include "store/store.h"

namespace savoir {

class Engine {
 public:
  // Opens (creating) the store and the index in config.data_dir and brings
  // the index up to date with the store.
  static Result<std::unique_ptr<Engine>> Open(const Config& config, const ProgressFn& progress = nullptr);

  Store& store() { return *store_; }
  KeywordIndex& index() { return *index_; }
  const Searcher& searcher() const { return *searcher_; }
  const Config& config() const { return config_; }
  IngestOptions ingest_options() const;

  // Keyword index only (cheap; the server's refresher runs it often).
  Status CatchUp(const ProgressFn& progress = nullptr);
  // Embeds what changed into the vector index (nothing without --embedder;
  // the error of a misconfigured embedder otherwise). `stop` ends it early
  // at a commit point.
  Status CatchUpVectors(const ProgressFn& progress = nullptr, const std::atomic<bool>* stop = nullptr);

  // Hybrid when vectors serve, keyword otherwise (RetrievalMode::kAuto);
  // the permission filter is applied inside both searches.
  Result<std::vector<DocumentHit>> Search(const SearchRequest& request, AnalyzedQuery* analyzed = nullptr,
                                          RetrievalMode mode = RetrievalMode::kAuto) const;
  // nullptr without --embedder (or when the embedder failed to load).
  EmbeddingPipeline* vectors() { return vectors_.get(); }
  // Model, vectors, pending changes (enabled = false without --embedder).
  VectorStatus vector_status();
  // Why vectors are off although --embedder is set ("" otherwise).
  const std::string& vector_error() const { return vector_error_; }
  // Throws the index away and builds it again from the store.
  Status Rebuild(const ProgressFn& progress = nullptr);

 private:
  Config config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<KeywordIndex> index_;
  std::unique_ptr<Searcher> searcher_;
  std::unique_ptr<EmbeddingPipeline> vectors_;
  std::unique_ptr<Reranker> reranker_;
  std::unique_ptr<HybridSearcher> hybrid_;
  std::string vector_error_;

  Status OpenVectors();
};

// The JSON saved with a vector index that rebuilds its embedder (never a
// key: only the key file's path).
std::string EmbedderSpecJson(const Config& config);
Result<std::unique_ptr<Embedder>> EmbedderFromSpecJson(const Config& base, const std::string& spec);

SearcherOptions SearcherOptionsFrom(const Config& config);

}  // namespace savoir
