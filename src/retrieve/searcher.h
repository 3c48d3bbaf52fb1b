// Keyword retrieval as a principal: analyze the query (choosing its
// language), run BM25 with the permission filter inside traversal, and
// collapse chunk hits into documents (best chunk per document).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "index/bm25.h"
#include "index/keyword_index.h"
#include "retrieve/permission_filter.h"
#include "retrieve/principal.h"

namespace savoir {

struct SearchRequest {
  std::string query;
  Principal principal;
  SearchFilters filters;
  size_t k = 10;
};

struct DocumentHit {
  int64_t doc_id = 0;
  int64_t chunk_id = 0;  // the document's best chunk
  float score = 0;
};

struct AnalyzedQuery {
  std::string language;
  std::vector<QueryTerm> terms;
};

struct SearcherOptions {
  Bm25Params bm25;
  std::string default_language = "en";
  std::vector<std::string> languages = {"en", "fr"};
  size_t max_query_bytes = 4096;
  float bigram_weight = 0.4f;  // weight of adjacent-pair terms relative to words  // longer queries are cut (ArguAna-style paragraphs fit)
};

class Searcher {
 public:
  Searcher(const KeywordIndex& index, SearcherOptions options) : index_(index), options_(std::move(options)) {}

  // `analyzed`, when given, receives the query as it was analyzed (for
  // snippets), so callers need not analyze it again.
  Result<std::vector<DocumentHit>> Search(const SearchRequest& request,
                                          AnalyzedQuery* analyzed = nullptr) const;
  // `lookups`, when given, is over `snap` and keeps the terms it looks up
  // for the search that follows.
  AnalyzedQuery Analyze(const std::string& query, const Snapshot& snap, TermLookups* lookups = nullptr) const;
  const SearcherOptions& options() const { return options_; }

 private:
  const KeywordIndex& index_;
  SearcherOptions options_;
};

}  // namespace savoir
