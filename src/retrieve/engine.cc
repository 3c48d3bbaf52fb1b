#include "retrieve/engine.h"

#include <filesystem>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/json_read.h"
#include "embed/factory.h"
#include "retrieve/llama_reranker.h"

namespace savoir {

SearcherOptions SearcherOptionsFrom(const Config& config) {
  SearcherOptions o;
  o.bm25.k1 = config.bm25_k1;
  o.bm25.b = config.bm25_b;
  o.bigram_weight = config.bigram_weight;
  o.default_language = config.default_language;
  o.languages = config.languages;
  return o;
}

IngestOptions Engine::ingest_options() const {
  IngestOptions o;
  o.chunker.max_tokens = config_.chunk_tokens;
  o.default_language = config_.default_language;
  o.languages = config_.languages;
  return o;
}

Result<std::unique_ptr<Engine>> Engine::Open(const Config& config, const ProgressFn& progress) {
  auto e = std::make_unique<Engine>();
  e->config_ = config;
  SAVOIR_RETURN_IF_ERROR(MakeDirs(config.data_dir));
  SAVOIR_ASSIGN_OR_RETURN(e->store_, OpenSqliteStore(config.store_path()));
  auto index = KeywordIndex::Open(config.index_dir());
  if (!index.ok()) {
    // The index is derived: a damaged one is rebuilt, never fatal.
    std::error_code ec;
    std::filesystem::remove_all(config.index_dir(), ec);
    index = KeywordIndex::Open(config.index_dir());
    if (!index.ok()) return index.status();
  }
  e->index_ = std::move(index).value();
  e->searcher_ = std::make_unique<Searcher>(*e->index_, SearcherOptionsFrom(config));
  SAVOIR_RETURN_IF_ERROR(e->CatchUp(progress));
  SAVOIR_RETURN_IF_ERROR(e->OpenVectors());
  return e;
}

std::string EmbedderSpecJson(const Config& c) {
  return nlohmann::json{{"embedder", c.embedder},
                        {"embed_model", c.embed_model},
                        {"embed_url", c.embed_url},
                        {"embed_api_key_file", c.embed_api_key_file}}
      .dump();
}

Result<std::unique_ptr<Embedder>> EmbedderFromSpecJson(const Config& base, const std::string& spec) {
  auto j = nlohmann::json::parse(spec, nullptr, false);
  if (!j.is_object()) return Status(ErrorKind::kCorrupt, "embedder.json is not a JSON object");
  Config c = base;
  c.embedder = JsonString(j, "embedder");
  c.embed_model = JsonString(j, "embed_model");
  c.embed_url = JsonString(j, "embed_url");
  c.embed_api_key_file = JsonString(j, "embed_api_key_file");
  return MakeEmbedder(c);
}

Status Engine::OpenVectors() {
  // The reranker works on any ranking (keyword alone too). A reranker that
  // cannot be made (a missing model file, a model that is not a reranker)
  // stops start-up with the reason: it was asked for explicitly.
  {
    auto reranker = MakeReranker(config_);
    if (!reranker.ok()) return reranker.status();
    reranker_ = std::move(reranker).value();
  }
  if (!config_.embedder.empty()) {
    auto embedder = MakeEmbedder(config_);
    if (!embedder.ok()) {
      // Search stays available (keyword); `savoir index` reports this.
      vector_error_ = embedder.status().message();
      std::fprintf(stderr, "savoir: vectors off: %s\n", vector_error_.c_str());
    } else {
      Config base = config_;
      EmbedPipelineOptions po;
      po.index.quantization = config_.vector_storage;
      auto pipeline = EmbeddingPipeline::Open(
          config_.vectors_dir(), std::shared_ptr<Embedder>(std::move(embedder).value()), EmbedderSpecJson(config_),
          [base](const std::string& spec) { return EmbedderFromSpecJson(base, spec); }, po);
      if (!pipeline.ok()) return pipeline.status();
      vectors_ = std::move(pipeline).value();
    }
  }
  EmbeddingPipeline* v = vectors_.get();
  hybrid_ = std::make_unique<HybridSearcher>(
      *searcher_, *index_, *store_,
      [v]() -> std::shared_ptr<const VectorSpace> { return v ? v->serving() : nullptr; }, HybridOptionsFrom(config_),
      reranker_.get());
  return Status::Ok();
}

Status Engine::CatchUpVectors(const ProgressFn& progress, const std::atomic<bool>* stop) {
  if (!vector_error_.empty()) return Status(ErrorKind::kUnavailable, "embedder: " + vector_error_);
  if (!vectors_) return Status::Ok();
  return vectors_->CatchUp(*store_, progress, stop);
}

Result<std::vector<DocumentHit>> Engine::Search(const SearchRequest& request, AnalyzedQuery* analyzed,
                                                RetrievalMode mode) const {
  return hybrid_->Search(request, analyzed, mode);
}

VectorStatus Engine::vector_status() {
  if (!vectors_) return VectorStatus{};
  return vectors_->GetStatus(*store_);
}

Status Engine::CatchUp(const ProgressFn& progress) {
  // One writer at a time per index folder, across processes: `savoir index`
  // may run while `savoir serve` catches up with the same store.
  return index_->WithWriteLock([&]() -> Status {
    SAVOIR_RETURN_IF_ERROR(CatchUpIndex(*store_, *index_, {}, progress));
    return index_->MaybeMerge();
  });
}

Status Engine::Rebuild(const ProgressFn& progress) {
  hybrid_.reset();
  searcher_.reset();
  index_.reset();
  std::error_code ec;
  std::filesystem::remove_all(config_.index_dir(), ec);
  SAVOIR_ASSIGN_OR_RETURN(index_, KeywordIndex::Open(config_.index_dir()));
  searcher_ = std::make_unique<Searcher>(*index_, SearcherOptionsFrom(config_));
  EmbeddingPipeline* v = vectors_.get();
  hybrid_ = std::make_unique<HybridSearcher>(
      *searcher_, *index_, *store_,
      [v]() -> std::shared_ptr<const VectorSpace> { return v ? v->serving() : nullptr; }, HybridOptionsFrom(config_),
      reranker_.get());
  return index_->WithWriteLock([&]() -> Status {
    SAVOIR_RETURN_IF_ERROR(CatchUpIndex(*store_, *index_, {}, progress));
    return index_->MergeAll();
  });
}

}  // namespace savoir
