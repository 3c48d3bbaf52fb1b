#include "retrieve/searcher.h"

#include <unordered_set>

#include "common/utf8.h"
#include "index/analyzer.h"

namespace savoir {

AnalyzedQuery Searcher::Analyze(const std::string& raw, const Snapshot& snap) const {
  std::string_view query = TruncateUtf8(raw, options_.max_query_bytes);
  bool reliable = false;
  std::string detected = DetectLanguage(query, &reliable);
  // Short queries are rarely detected reliably; then pick, among the
  // languages we stem, the analysis whose terms the index knows best.
  std::vector<std::string> candidates;
  if (reliable && Analyzer::HasStemmer(detected)) candidates = {detected};
  else candidates = {options_.default_language, options_.default_language == "fr" ? "en" : "fr"};
  AnalyzedQuery best;
  int best_found = -1;
  for (const auto& lang : candidates) {
    AnalyzedQuery q;
    q.language = lang;
    int found = 0;
    for (auto& t : Analyzer::Terms(query, lang)) {
      if (candidates.size() > 1 && snap.DocFreq(t) > 0) ++found;
      q.terms.push_back(QueryTerm{std::move(t), 1.0f});
    }
    if (found > best_found) {
      best_found = found;
      best = std::move(q);
    }
  }
  return best;
}

Result<std::vector<DocumentHit>> Searcher::Search(const SearchRequest& req) const {
  if (req.query.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status(ErrorKind::kInvalidArgument, "the query is empty");
  auto snap = index_.snapshot();
  AnalyzedQuery q = Analyze(req.query, *snap);
  std::vector<DocumentHit> out;
  if (q.terms.empty() || req.k == 0) return out;
  PermissionFilter filter(req.principal, req.filters);
  const DocSelector* selector = (req.principal.all_access && req.filters.empty()) ? nullptr : &filter;

  // Chunks are ranked; documents are returned. Ask for more chunks than
  // documents and widen until k distinct documents are found or the
  // candidates run out.
  size_t want = req.k * 2 + 8;
  for (;;) {
    auto hits = SearchBm25(*snap, q.terms, selector, options_.bm25, want);
    out.clear();
    std::unordered_set<int64_t> seen;
    for (const auto& h : hits) {
      if (!seen.insert(h.doc_id).second) continue;
      out.push_back(DocumentHit{h.doc_id, h.chunk_id, h.score});
      if (out.size() == req.k) break;
    }
    if (out.size() == req.k || hits.size() < want) break;
    want *= 4;
  }
  return out;
}

}  // namespace savoir
