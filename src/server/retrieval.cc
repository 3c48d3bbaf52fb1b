#include "server/retrieval.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_set>

#include "index/analyzer.h"
#include "retrieve/snippet.h"
#include "server/request_parsing.h"

namespace savoir {
namespace {
using json = nlohmann::json;

std::string MakeResultSnippet(std::string_view passage, const ChunkRecord& chunk, SnippetTerms& terms) {
  return MarkedSnippet(passage, terms.For(chunk.language), chunk.language);
}

}  // namespace

bool CanRead(const Principal& principal, const AccessList& acl) {
  if (principal.all_access) return true;
  for (const auto& e : principal.AccessEntries())
    if (std::find(acl.begin(), acl.end(), e) != acl.end()) return true;
  return false;
}

Result<Retrieval> Retrieve(Engine& engine, const std::string& query, const Principal& principal,
                           const SearchFilters& filters, size_t k) {
  auto t0 = std::chrono::steady_clock::now();
  SearchRequest req;
  req.query = query;
  req.principal = principal;
  req.filters = filters;
  req.k = k;
  AnalyzedQuery analyzed;
  SAVOIR_ASSIGN_OR_RETURN(std::vector<DocumentHit> hits, engine.Search(req, &analyzed));
  Retrieval out;
  out.language = analyzed.language;
  std::unordered_set<std::string> query_terms;
  for (const auto& t : analyzed.terms) query_terms.insert(t.term);
  SnippetTerms snippet_terms(query, std::move(query_terms));
  std::map<int64_t, SourceRecord> sources;
  std::vector<int64_t> chunk_ids;
  chunk_ids.reserve(hits.size());
  for (const auto& h : hits) chunk_ids.push_back(h.chunk_id);
  auto passages = engine.store().GetPassages(chunk_ids);
  for (size_t i = 0; i < hits.size(); ++i) {
    const DocumentHit& h = hits[i];
    auto& passage = passages[i];
    // Deleted between the index snapshot and now: skip, it is no answer.
    if (!passage.ok() || passage->doc.id != h.doc_id) continue;
    auto src = sources.find(passage->doc.source_id);
    if (src == sources.end()) {
      auto s = engine.store().GetSource(passage->doc.source_id);
      if (!s.ok()) continue;
      src = sources.emplace(passage->doc.source_id, std::move(s).value()).first;
    }
    RetrievedHit r{h, std::move(passage->doc), std::move(passage->chunk), src->second, {},
                   std::move(passage->text)};
    r.snippet = MakeResultSnippet(r.text, r.chunk, snippet_terms);
    out.hits.push_back(std::move(r));
  }
  out.took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

json SourceJson(const SourceRecord& s) { return {{"id", s.id}, {"kind", s.kind}, {"name", s.name}}; }

json ResultJson(const RetrievedHit& r) {
  return {{"document_id", r.doc.id},
          {"chunk_id", r.chunk.id},
          {"title", r.doc.title},
          {"url", r.doc.url},
          {"source", SourceJson(r.source)},
          {"snippet", r.snippet},
          {"score", r.hit.score},
          {"language", r.chunk.language.empty() ? r.doc.language : r.chunk.language},
          {"updated_at", r.doc.updated_at > 0 ? json(IsoTime(r.doc.updated_at)) : json(nullptr)},
          {"heading_path", r.chunk.heading_path}};
}

json ResultsJson(const Retrieval& retrieval) {
  json out = json::array();
  for (const auto& r : retrieval.hits) out.push_back(ResultJson(r));
  return out;
}

std::string SearchResponseJson(const Retrieval& retrieval, double took_ms) {
  std::string out;
  // nlohmann's own serializer for every value (escaping, invalid UTF-8
  // replaced, number formatting), the structure written here: keys in the
  // order a json object (a std::map) keeps them, compact separators.
  nlohmann::detail::serializer<json> ser(nlohmann::detail::output_adapter<char, std::string>(out), ' ',
                                         json::error_handler_t::replace);
  auto value = [&](const json& v) { ser.dump(v, false, false, 0); };
  out += "{\"results\":[";
  for (size_t i = 0; i < retrieval.hits.size(); ++i) {
    const RetrievedHit& r = retrieval.hits[i];
    if (i > 0) out += ',';
    out += "{\"chunk_id\":";
    value(r.chunk.id);
    out += ",\"document_id\":";
    value(r.doc.id);
    out += ",\"heading_path\":";
    value(r.chunk.heading_path);
    out += ",\"language\":";
    value(r.chunk.language.empty() ? r.doc.language : r.chunk.language);
    out += ",\"score\":";
    value(r.hit.score);
    out += ",\"snippet\":";
    value(r.snippet);
    out += ",\"source\":{\"id\":";
    value(r.source.id);
    out += ",\"kind\":";
    value(r.source.kind);
    out += ",\"name\":";
    value(r.source.name);
    out += "},\"title\":";
    value(r.doc.title);
    out += ",\"updated_at\":";
    value(r.doc.updated_at > 0 ? json(IsoTime(r.doc.updated_at)) : json(nullptr));
    out += ",\"url\":";
    value(r.doc.url);
    out += '}';
  }
  out += "],\"took_ms\":";
  value(took_ms);
  out += '}';
  return out;
}

json CitationJson(const Citation& c) {
  return {{"n", c.n}, {"document_id", c.doc_id}, {"chunk_id", c.chunk_id},
          {"title", c.title}, {"start", c.start}, {"end", c.end}};
}

std::vector<Passage> PassagesFor(const Retrieval& retrieval) {
  std::vector<Passage> out;
  int n = 0;
  for (const auto& r : retrieval.hits) {
    Passage p;
    p.n = ++n;
    p.doc_id = r.doc.id;
    p.chunk_id = r.chunk.id;
    p.title = r.doc.title;
    p.url = r.doc.url;
    p.heading_path = r.chunk.heading_path;
    p.language = r.chunk.language.empty() ? r.doc.language : r.chunk.language;
    p.text = r.text;
    p.begin = r.chunk.begin;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace savoir
