#include "retrieve/engine.h"

#include <filesystem>

#include "common/file.h"

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
  return e;
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
  searcher_.reset();
  index_.reset();
  std::error_code ec;
  std::filesystem::remove_all(config_.index_dir(), ec);
  SAVOIR_ASSIGN_OR_RETURN(index_, KeywordIndex::Open(config_.index_dir()));
  searcher_ = std::make_unique<Searcher>(*index_, SearcherOptionsFrom(config_));
  return index_->WithWriteLock([&]() -> Status {
    SAVOIR_RETURN_IF_ERROR(CatchUpIndex(*store_, *index_, {}, progress));
    return index_->MergeAll();
  });
}

}  // namespace savoir
