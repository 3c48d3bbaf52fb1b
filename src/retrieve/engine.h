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

  Status CatchUp(const ProgressFn& progress = nullptr);
  // Throws the index away and builds it again from the store.
  Status Rebuild(const ProgressFn& progress = nullptr);

 private:
  Config config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<KeywordIndex> index_;
  std::unique_ptr<Searcher> searcher_;
};

SearcherOptions SearcherOptionsFrom(const Config& config);

}  // namespace savoir
