#include "retrieve/hybrid.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "net/http_client.h"

namespace savoir {
namespace {

using json = nlohmann::json;

struct Fused {
  int64_t doc_id = 0;
  int64_t chunk_id = 0;
  double score = 0;
  size_t best_rank = SIZE_MAX;  // ties: the document ranked higher in either list first
};

std::vector<DocumentHit> TopN(std::unordered_map<int64_t, Fused>& by_doc, size_t n) {
  std::vector<Fused> all;
  all.reserve(by_doc.size());
  for (auto& [_, f] : by_doc) all.push_back(f);
  std::sort(all.begin(), all.end(), [](const Fused& a, const Fused& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.best_rank != b.best_rank) return a.best_rank < b.best_rank;
    return a.doc_id < b.doc_id;
  });
  if (all.size() > n) all.resize(n);
  std::vector<DocumentHit> out;
  out.reserve(all.size());
  for (const auto& f : all) out.push_back(DocumentHit{f.doc_id, f.chunk_id, static_cast<float>(f.score)});
  return out;
}

// The keyword list is added first, so its chunk stays the document's chunk.
void Accumulate(std::unordered_map<int64_t, Fused>& by_doc, const std::vector<DocumentHit>& list,
                const std::function<double(size_t rank, const DocumentHit&)>& score) {
  for (size_t i = 0; i < list.size(); ++i) {
    auto [it, fresh] = by_doc.try_emplace(list[i].doc_id);
    Fused& f = it->second;
    if (fresh) {
      f.doc_id = list[i].doc_id;
      f.chunk_id = list[i].chunk_id;
    }
    f.score += score(i + 1, list[i]);
    f.best_rank = std::min(f.best_rank, i + 1);
  }
}

class RemoteReranker final : public Reranker {
 public:
  RemoteReranker(std::string url, std::string api_key, std::string model)
      : url_(std::move(url)), api_key_(std::move(api_key)), model_(std::move(model)), http_(Options()) {}
  std::string name() const override { return "remote:" + UrlWithoutQuery(url_); }

  Result<std::vector<float>> Score(const std::string& query, const std::vector<std::string>& documents) override {
    json body = {{"query", query}, {"documents", documents}, {"texts", documents}, {"top_n", documents.size()}};
    if (!model_.empty()) body["model"] = model_;
    HttpRequest req;
    req.method = "POST";
    req.url = url_;
    req.headers = {"Content-Type: application/json"};
    if (!api_key_.empty()) req.headers.push_back("Authorization: Bearer " + api_key_);
    req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    SAVOIR_ASSIGN_OR_RETURN(HttpResponse resp, http_.Send(req));
    if (resp.status != 200)
      return Status(ErrorKind::kUnavailable, "reranker " + UrlWithoutQuery(url_) + " answered HTTP " +
                                                 std::to_string(resp.status));
    json j = json::parse(resp.body, nullptr, false);
    // {"results": [...]} (llama-server, Jina, Cohere) or a bare array (TEI).
    const json* results = nullptr;
    if (j.is_object() && j.contains("results") && j["results"].is_array()) results = &j["results"];
    else if (j.is_array()) results = &j;
    if (!results)
      return Status(ErrorKind::kInvalidArgument, "reranker " + UrlWithoutQuery(url_) + " returned no results array");
    std::vector<float> scores(documents.size(), -1e30f);
    for (const auto& r : *results) {
      if (!r.is_object() || !r.contains("index") || !r["index"].is_number_integer()) continue;
      int64_t i = r["index"].get<int64_t>();
      const json* s = r.contains("relevance_score") ? &r["relevance_score"] : r.contains("score") ? &r["score"] : nullptr;
      if (i < 0 || i >= static_cast<int64_t>(documents.size()) || !s || !s->is_number()) continue;
      scores[i] = s->get<float>();
    }
    return scores;
  }

 private:
  static HttpOptions Options() {
    HttpOptions o;
    o.timeout_ms = 10000;
    o.max_attempts = 2;
    o.backoff_base_ms = 100;
    o.connect_timeout_ms = 2000;
    o.requests_per_minute = 0;
    o.user_agent = "savoir-reranker/0.1";
    return o;
  }
  std::string url_, api_key_, model_;
  HttpClient http_;
};

}  // namespace

Result<RetrievalMode> ParseRetrievalMode(const std::string& name) {
  if (name == "auto" || name.empty()) return RetrievalMode::kAuto;
  if (name == "bm25" || name == "keyword") return RetrievalMode::kKeyword;
  if (name == "dense" || name == "vector") return RetrievalMode::kDense;
  if (name == "hybrid") return RetrievalMode::kHybrid;
  return Status(ErrorKind::kInvalidArgument, "retrieval mode must be auto, bm25, dense or hybrid, got '" + name + "'");
}

HybridOptions HybridOptionsFrom(const Config& c) {
  HybridOptions o;
  o.fusion = c.fusion;
  o.rrf_k = c.rrf_k;
  o.weight = c.fusion_weight;
  o.candidates = static_cast<size_t>(c.vector_candidates);
  o.rerank_top = static_cast<size_t>(c.rerank_top);
  return o;
}

std::vector<DocumentHit> FuseRrf(const std::vector<DocumentHit>& keyword, const std::vector<DocumentHit>& dense,
                                 double k, size_t n) {
  std::unordered_map<int64_t, Fused> by_doc;
  auto rrf = [k](size_t rank, const DocumentHit&) { return 1.0 / (k + static_cast<double>(rank)); };
  Accumulate(by_doc, keyword, rrf);
  Accumulate(by_doc, dense, rrf);
  return TopN(by_doc, n);
}

std::vector<DocumentHit> FuseWeighted(const std::vector<DocumentHit>& keyword,
                                      const std::vector<DocumentHit>& dense, double alpha, size_t n) {
  auto normalizer = [](const std::vector<DocumentHit>& list) {
    float lo = 0, hi = 0;
    if (!list.empty()) {
      auto [mn, mx] = std::minmax_element(list.begin(), list.end(),
                                          [](const DocumentHit& a, const DocumentHit& b) { return a.score < b.score; });
      lo = mn->score;
      hi = mx->score;
    }
    return [lo, hi](size_t, const DocumentHit& h) {
      return hi > lo ? (static_cast<double>(h.score) - lo) / (static_cast<double>(hi) - lo) : 1.0;
    };
  };
  std::unordered_map<int64_t, Fused> by_doc;
  auto nk = normalizer(keyword), nd = normalizer(dense);
  Accumulate(by_doc, keyword, [&](size_t r, const DocumentHit& h) { return (1 - alpha) * nk(r, h); });
  Accumulate(by_doc, dense, [&](size_t r, const DocumentHit& h) { return alpha * nd(r, h); });
  return TopN(by_doc, n);
}

std::optional<Roaring> AllowedChunks(const Snapshot& snap, const Principal& principal, const SearchFilters& filters) {
  if (principal.all_access && filters.empty()) return std::nullopt;
  PermissionFilter filter(principal, filters);
  Roaring out;
  std::vector<uint32_t> buf;
  for (const auto& view : snap.segments) {
    const Segment& seg = *view.segment;
    std::optional<Roaring> locals = filter.Allowed(seg);
    buf.clear();
    auto take = [&](uint32_t l) {
      if (!view.deleted->contains(l)) buf.push_back(static_cast<uint32_t>(seg.chunk_id(l)));
    };
    if (locals) {
      for (uint32_t l : *locals) take(l);
    } else {
      for (uint32_t l = 0; l < seg.n_docs(); ++l) take(l);
    }
    out.addMany(buf.size(), buf.data());
  }
  return out;
}

std::unique_ptr<Reranker> MakeRemoteReranker(const std::string& url, const std::string& api_key,
                                             const std::string& model) {
  return std::make_unique<RemoteReranker>(url, api_key, model);
}

bool HybridSearcher::HasVectors() const {
  auto s = vectors_ ? vectors_() : nullptr;
  return s && s->size() > 0;
}

Result<std::vector<DocumentHit>> HybridSearcher::Dense(const VectorSpace& space, const SearchRequest& req,
                                                       const Snapshot& snap, size_t n) const {
  std::optional<Roaring> allowed = AllowedChunks(snap, req.principal, req.filters);
  std::vector<DocumentHit> out;
  if (allowed && allowed->isEmpty()) return out;
  // Chunks are ranked, documents returned: ask for more chunks than
  // documents, widening while too few distinct documents come back.
  size_t want = n * 2 + 8;
  for (;;) {
    SAVOIR_ASSIGN_OR_RETURN(auto hits, space.Search(req.query, want, allowed ? &*allowed : nullptr));
    out.clear();
    std::unordered_set<int64_t> seen;
    for (const auto& h : hits) {
      // The vector index may briefly hold a chunk the store has replaced.
      auto chunk = store_.GetChunk(h.id);
      if (!chunk.ok()) continue;
      if (!seen.insert(chunk->document_id).second) continue;
      out.push_back(DocumentHit{chunk->document_id, h.id, h.score});
      if (out.size() == n) break;
    }
    if (out.size() == n || hits.size() < want || want >= space.size()) break;
    want *= 4;
  }
  return out;
}

void HybridSearcher::Rerank(const std::string& query, std::vector<DocumentHit>* hits) const {
  size_t top = std::min(options_.rerank_top, hits->size());
  if (!reranker_ || top < 2) return;
  std::vector<std::string> texts;
  std::vector<size_t> which;
  for (size_t i = 0; i < top; ++i) {
    auto p = store_.GetPassage((*hits)[i].chunk_id);
    if (!p.ok()) continue;
    texts.push_back(p->doc.title.empty() ? p->text : p->doc.title + "\n" + p->text);
    which.push_back(i);
  }
  auto scores = reranker_->Score(query, texts);
  if (!scores.ok()) {
    // Search stays available when the reranker is not: fused order kept.
    std::fprintf(stderr, "savoir: reranking skipped: %s\n", scores.status().message().c_str());
    return;
  }
  std::vector<std::pair<float, DocumentHit>> ranked;
  for (size_t j = 0; j < which.size(); ++j) ranked.emplace_back((*scores)[j], (*hits)[which[j]]);
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<DocumentHit> out;
  for (auto& [s, h] : ranked) {
    h.score = s;
    out.push_back(h);
  }
  std::unordered_set<size_t> used(which.begin(), which.end());
  for (size_t i = 0; i < hits->size(); ++i)
    if (!used.count(i)) out.push_back((*hits)[i]);
  *hits = std::move(out);
}

Result<std::vector<DocumentHit>> HybridSearcher::Search(const SearchRequest& req, AnalyzedQuery* analyzed,
                                                        RetrievalMode mode) const {
  std::shared_ptr<const VectorSpace> space = vectors_ ? vectors_() : nullptr;
  if (space && space->size() == 0) space = nullptr;
  if (mode == RetrievalMode::kAuto) mode = space ? RetrievalMode::kHybrid : RetrievalMode::kKeyword;
  if (mode == RetrievalMode::kKeyword) {
    if (!reranker_) return keyword_.Search(req, analyzed);
    // The reranker reorders the keyword list's top too.
    SearchRequest kreq = req;
    kreq.k = std::max(req.k, options_.rerank_top);
    SAVOIR_ASSIGN_OR_RETURN(auto hits, keyword_.Search(kreq, analyzed));
    Rerank(req.query, &hits);
    if (hits.size() > req.k) hits.resize(req.k);
    return hits;
  }
  if (!space)
    return Status(ErrorKind::kUnavailable,
                  "no vector index: set --embedder and run `savoir index` (or let `savoir serve` catch up)");
  if (req.query.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status(ErrorKind::kInvalidArgument, "the query is empty");
  auto snap = index_.snapshot();
  const size_t n = std::max(req.k, options_.candidates);
  if (mode == RetrievalMode::kDense) {
    if (analyzed) *analyzed = keyword_.Analyze(req.query, *snap);  // for snippets
    SAVOIR_ASSIGN_OR_RETURN(auto dense, Dense(*space, req, *snap, req.k));
    return dense;
  }
  SearchRequest kreq = req;
  kreq.k = n;
  SAVOIR_ASSIGN_OR_RETURN(auto keyword, keyword_.Search(kreq, analyzed));
  auto dense = Dense(*space, req, *snap, n);
  if (!dense.ok()) {
    // The embedder being down costs the vector list, not the search.
    std::fprintf(stderr, "savoir: vector search skipped: %s\n", dense.status().message().c_str());
    Rerank(req.query, &keyword);  // nothing without a reranker
    if (keyword.size() > req.k) keyword.resize(req.k);
    return keyword;
  }
  size_t keep = std::max(req.k, reranker_ ? options_.rerank_top : 0);
  std::vector<DocumentHit> fused = options_.fusion == "weighted" ? FuseWeighted(keyword, *dense, options_.weight, keep)
                                                                 : FuseRrf(keyword, *dense, options_.rrf_k, keep);
  Rerank(req.query, &fused);
  if (fused.size() > req.k) fused.resize(req.k);
  return fused;
}

}  // namespace savoir
