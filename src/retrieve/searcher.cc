#include "retrieve/searcher.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "common/utf8.h"
#include "index/analyzer.h"

namespace savoir {

AnalyzedQuery Searcher::Analyze(const std::string& raw, const Snapshot& snap, TermLookups* lookups) const {
  std::optional<TermLookups> own;
  if (!lookups) lookups = &own.emplace(snap);
  std::string_view query = TruncateUtf8(raw, options_.max_query_bytes);
  bool reliable = false;
  std::string detected = DetectLanguageAmong(query, options_.languages, &reliable);
  // Each word is analyzed in every corpus language; each analysis weighs
  // its language's share of the index, tripled for the language detected
  // with confidence. A French corpus gets French stems even for a query CLD2
  // calls English; a mixed corpus gets both (a word that is a stop word in
  // one language still counts in the other).
  AnalyzedQuery out;
  std::vector<std::pair<std::string, double>> langs;
  double total = 0;
  for (const auto& l : options_.languages) {
    double share = static_cast<double>(snap.FacetCount("lang:" + l));
    if (reliable && l == detected) share *= 3;
    langs.emplace_back(l, share);
    total += share;
  }
  if (total == 0) {
    for (auto& [l, share] : langs)
      share = l == (reliable ? detected : options_.default_language) ? 1.0 : 0.0;
    total = 1.0;
  }
  std::string best_lang;
  double best_share = -1;
  std::vector<std::pair<uint32_t, QueryTerm>> by_position;  // word offset -> term
  for (const auto& [lang, share] : langs) {
    double w = share / total;
    if (w > best_share) {
      best_share = w;
      best_lang = lang;
    }
    if (w < 0.01) continue;
    std::vector<Token> toks;
    Analyzer::Analyze(query, lang, &toks);
    for (auto& t : toks) {
      auto it = std::find_if(by_position.begin(), by_position.end(),
                             [&](const auto& p) { return p.first == t.begin && p.second.term == t.term; });
      if (it != by_position.end()) it->second.weight += static_cast<float>(w);
      else by_position.emplace_back(t.begin, QueryTerm{std::move(t.term), static_cast<float>(w)});
    }
  }
  std::stable_sort(by_position.begin(), by_position.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Per word, the analyses the index knows take the weight of those it does
  // not: in "days of congés payés", "congés" keeps its French stem even in
  // a query detected as English.
  for (size_t i = 0; i < by_position.size();) {
    size_t j = i;
    float known = 0, total_w = 0;
    while (j < by_position.size() && by_position[j].first == by_position[i].first) {
      total_w += by_position[j].second.weight;
      if (lookups->DocFreq(by_position[j].second.term) > 0) known += by_position[j].second.weight;
      ++j;
    }
    if (known > 0 && known < total_w)
      for (size_t m = i; m < j; ++m)
        if (lookups->DocFreq(by_position[m].second.term) > 0) by_position[m].second.weight *= total_w / known;
    i = j;
  }
  out.language = best_lang;
  for (auto& [_, t] : by_position) out.terms.push_back(std::move(t));
  if (options_.bigram_weight > 0) {
    // Adjacent word pairs of the main analysis, matched against the pairs
    // indexed with every chunk: a cheap stand-in for phrase proximity.
    std::vector<Token> toks;
    Analyzer::Analyze(query, best_lang, &toks);
    for (size_t i = 1; i < toks.size(); ++i)
      out.terms.push_back(QueryTerm{BigramTerm(toks[i - 1].term, toks[i].term),
                                    options_.bigram_weight * static_cast<float>(best_share)});
  }
  return out;
}

Result<std::vector<DocumentHit>> Searcher::Search(const SearchRequest& req, AnalyzedQuery* analyzed) const {
  if (req.query.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status(ErrorKind::kInvalidArgument, "the query is empty");
  auto snap = index_.snapshot();
  TermLookups lookups(*snap);
  AnalyzedQuery q = Analyze(req.query, *snap, &lookups);
  if (analyzed) *analyzed = q;
  std::vector<DocumentHit> out;
  if (q.terms.empty() || req.k == 0) return out;
  PermissionFilter filter(req.principal, req.filters);
  const DocSelector* selector = (req.principal.all_access && req.filters.empty()) ? nullptr : &filter;

  // Chunks are ranked; documents are returned. Ask for more chunks than
  // documents and widen until k distinct documents are found or the
  // candidates run out.
  size_t want = req.k * 2 + 8;
  for (;;) {
    auto hits = SearchBm25(*snap, q.terms, selector, options_.bm25, want, nullptr, &lookups);
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
