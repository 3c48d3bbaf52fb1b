#include "cli/commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_set>

#include "connectors/files/files_connector.h"
#include "embed/factory.h"
#include "eval/beir.h"
#include "index/analyzer.h"
#include "retrieve/engine.h"
#include "retrieve/snippet.h"

namespace savoir {
namespace {
using json = nlohmann::json;

// A one-line progress bar on a terminal; silent otherwise.
class ProgressBar {
 public:
  explicit ProgressBar(const char* what) : what_(what), tty_(isatty(STDERR_FILENO)) {}
  ~ProgressBar() { Finish(); }
  void Update(size_t done, size_t total, const std::string& item = "") {
    if (!tty_ || total == 0) return;
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(80)) return;
    last_ = now;
    const int width = 30;
    int filled = static_cast<int>(width * done / total);
    std::string name = item.size() > 40 ? "…" + item.substr(item.size() - 39) : item;
    std::fprintf(stderr, "\r\033[K%s [%.*s%*s] %zu/%zu %s", what_, filled,
                 "##############################", width - filled, "", done, total, name.c_str());
    shown_ = true;
  }
  void Finish() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  const char* what_;
  bool tty_, shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int Fail(const std::string& message) {
  std::fprintf(stderr, "savoir: %s\n", message.c_str());
  return 1;
}

int CmdIndex(const Config& config, const CommandArgs& args) {
  if (args.paths.empty() && args.beir.empty()) return Fail("index: give folders or files to index (or --beir DIR)");
  for (const auto& p : args.paths) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) return Fail("cannot index " + p + ": no such file or folder");
  }
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  Engine& e = **engine;

  FilesSyncOptions opt;
  opt.ingest = e.ingest_options();
  opt.limits.max_file_bytes = config.max_file_mb << 20;
  opt.limits.timeout_ms = config.parse_timeout_ms;
  opt.limits.memory_bytes = config.parse_memory_mb << 20;
  opt.workers = config.parse_workers > 0 ? config.parse_workers
                                         : std::max(1u, std::thread::hardware_concurrency());
  ProgressBar bar("indexing");
  opt.progress = [&](size_t done, size_t total, const std::string& item) { bar.Update(done, total, item); };

  SyncSummary total;
  int rc = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& p : args.paths) {
    SyncSummary s;
    Status st = SyncFiles(e.store(), p, opt, &s);
    bar.Finish();
    if (!st.ok()) {
      std::fprintf(stderr, "savoir: %s\n", st.message().c_str());
      rc = 1;
    }
    total.added += s.added;
    total.updated += s.updated;
    total.unchanged += s.unchanged;
    total.removed += s.removed;
    total.skipped += s.skipped;
    for (auto& f : s.failed) total.failed.push_back(std::move(f));
  }
  if (!args.beir.empty()) {
    int64_t source = 0;
    size_t docs = 0;
    Status st = IngestBeirCorpus(e.store(), args.beir, opt.ingest, &source, &docs);
    if (!st.ok()) return Fail("index --beir " + args.beir + ": " + st.message());
    std::printf("stored %zu BEIR documents from %s\n", docs, args.beir.c_str());
  }
  ProgressBar ibar("updating index");
  Status st = e.CatchUp([&](size_t d, size_t n) { ibar.Update(d, n); });
  ibar.Finish();
  if (!st.ok()) return Fail("index update failed: " + st.message());
  if (!config.embedder.empty()) {
    ProgressBar vbar("embedding");
    st = e.CatchUpVectors([&](size_t d, size_t n) { vbar.Update(d, n); });
    vbar.Finish();
    if (!st.ok()) return Fail("vector index update failed: " + st.message());
    // A compaction the commits started runs in the background; this process
    // is about to exit, so it waits for it (a server adopts it later).
    // Everything is committed by now: a failed compaction is a warning.
    if (auto* v = e.vectors()) st = v->FinishCompactions();
    if (!st.ok()) std::fprintf(stderr, "savoir: warning: vector index compaction failed: %s\n", st.message().c_str());
    VectorStatus vs = e.vector_status();
    if (auto* v = e.vectors())
      if (auto s = v->serving()) {
        EmbedCounters c = s->counters();
        std::printf("vectors: %zu in %s (this run: %zu chunks, %zu from the cache, %zu embedded)\n", vs.vectors,
                    vs.model.c_str(), c.chunks, c.cache_hits, c.embedded);
      }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("added %zu, updated %zu, unchanged %zu, removed %zu, failed %zu, skipped %zu (unsupported) in %.2f s\n",
              total.added, total.updated, total.unchanged, total.removed, total.failed.size(),
              total.skipped, secs);
  for (const auto& f : total.failed) std::printf("  failed: %s: %s\n", f.path.c_str(), f.reason.c_str());
  return rc;
}

int CmdSearch(const Config& config, const CommandArgs& args) {
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  Engine& e = **engine;
  SearchRequest req;
  req.query = args.query;
  req.k = args.k;
  req.principal.user = args.user;
  req.principal.groups = args.groups;
  req.filters.sources = args.sources;
  req.filters.languages = args.languages;
  auto t0 = std::chrono::steady_clock::now();
  AnalyzedQuery q;
  RetrievalMode mode = RetrievalMode::kAuto;
  if (!args.modes.empty()) {
    auto m = ParseRetrievalMode(args.modes.back());
    if (!m.ok()) return Fail(m.status().message());
    mode = *m;
  }
  auto hits = e.Search(req, &q, mode);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!hits.ok()) return Fail(hits.status().message());
  std::unordered_set<std::string> terms;
  for (const auto& t : q.terms) terms.insert(t.term);
  SnippetTerms snippet_terms(req.query, std::move(terms));
  bool tty = isatty(STDOUT_FILENO);
  int rank = 0;
  for (const auto& h : *hits) {
    ++rank;
    auto rec = e.store().GetPassage(h.chunk_id);
    if (!rec.ok()) continue;  // deleted since the search
    const DocumentRecord* doc = &rec->doc;
    const ChunkRecord* chunk = &rec->chunk;
    std::string_view passage = rec->text;
    Snippet sn = MakeSnippet(passage, snippet_terms.For(chunk->language), chunk->language);
    if (args.json) {
      json j = {{"rank", rank}, {"document_id", h.doc_id}, {"chunk_id", h.chunk_id},
                {"score", h.score}, {"title", doc->title}, {"url", doc->url},
                {"external_id", doc->external_id}, {"language", chunk->language},
                {"heading_path", chunk->heading_path}, {"snippet", sn.text},
                {"passage", {{"start", chunk->begin}, {"end", chunk->end}}}};
      std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    } else {
      std::printf("%d. %s%s%s  (%.2f)\n   %s%s%s\n   %s\n\n", rank, tty ? "\033[1m" : "",
                  doc->title.c_str(), tty ? "\033[0m" : "", h.score, doc->external_id.c_str(),
                  chunk->heading_path.empty() ? "" : " › ", chunk->heading_path.c_str(), sn.text.c_str());
    }
  }
  if (!args.json)
    std::printf("%zu result%s in %.2f ms%s\n", hits->size(), hits->size() == 1 ? "" : "s", ms,
                req.principal.user.empty() ? " (as anonymous: public documents only; use --as/--group)" : "");
  return 0;
}

int CmdEval(const Config& config, const CommandArgs& args) {
  EvalOptions opt;
  opt.dir = args.beir;
  opt.split = args.split;
  char tmpl[] = "/tmp/savoir-eval-XXXXXX";
  if (!mkdtemp(tmpl)) return Fail("cannot create a temporary folder");
  opt.work_dir = tmpl;
  opt.searcher = SearcherOptionsFrom(config);
  opt.ingest.chunker.max_tokens = config.chunk_tokens;
  opt.ingest.default_language = config.default_language;
  opt.ingest.languages = config.languages;
  opt.answers = args.answers;
  opt.hybrid = HybridOptionsFrom(config);
  std::vector<std::string> modes = args.modes;
  if (modes.empty()) modes = config.embedder.empty() ? std::vector<std::string>{"bm25"}
                                                     : std::vector<std::string>{"bm25", "dense", "hybrid"};
  opt.modes.clear();
  for (const auto& m : modes) {
    auto pm = ParseRetrievalMode(m);
    if (!pm.ok()) return Fail(pm.status().message());
    opt.modes.push_back(*pm);
  }
  if (!config.embedder.empty()) {
    auto emb = MakeEmbedder(config);
    if (!emb.ok()) return Fail("eval: " + emb.status().message());
    opt.embedder = std::shared_ptr<Embedder>(std::move(emb).value());
  }
  auto report = RunBeirEval(opt);
  std::error_code ec;
  std::filesystem::remove_all(opt.work_dir, ec);
  if (!report.ok()) return Fail("eval " + args.beir + ": " + report.status().message());
  const EvalReport& r = *report;
  std::printf("dataset      %s (split %s)\n", args.beir.c_str(), args.split.c_str());
  std::printf("documents    %zu\nqueries      %zu\n", r.documents, r.queries);
  std::printf("nDCG@10      %.4f\nRecall@100   %.4f\nMRR@10       %.4f\n", r.ndcg10, r.recall100, r.mrr10);
  std::printf("indexing     %.2f s (%.0f docs/s; store %.2f s, index %.2f s)\n", r.index_seconds,
              r.documents / r.index_seconds, r.store_seconds, r.index_seconds - r.store_seconds);
  std::printf("query        p50 %.3f ms, p99 %.3f ms, mean %.3f ms (k1 %.2f, b %.2f)\n", r.query_p50_ms,
              r.query_p99_ms, r.query_mean_ms, config.bm25_k1, config.bm25_b);
  if (r.modes.size() > 1 || (r.modes.size() == 1 && r.modes[0].mode != "bm25")) {
    if (r.embed_seconds > 0)
      std::printf("embedding    %.2f s (%s)\n", r.embed_seconds, opt.embedder ? opt.embedder->model_id().c_str() : "");
    std::printf("mode     nDCG@10  Recall@100  MRR@10   p50 ms   (fusion %s, rrf-k %.0f, weight %.2f)\n",
                config.fusion.c_str(), config.rrf_k, config.fusion_weight);
    for (const auto& f : r.modes)
      std::printf("%-8s %.4f   %.4f      %.4f   %.3f\n", f.mode.c_str(), f.ndcg10, f.recall100, f.mrr10,
                  f.query_p50_ms);
  }
  const AnswerEvalFigures& a = r.answers;
  if (args.answers) {
    if (a.questions == 0) {
      std::printf("answers      no queries with gold answers (metadata.answers)\n");
    } else {
      std::printf("answers      %zu questions, top %zu documents each\n", a.questions, opt.answer_k);
      std::printf("  in extract        %.4f\n  in top-1 passage  %.4f (ceiling reference)\n"
                  "  in top passages   %.4f\n", a.in_extract, a.in_top1_passage, a.in_top_passages);
      std::printf("  answer time       p50 %.3f ms, p99 %.3f ms; %.1f words on average\n", a.p50_ms, a.p99_ms,
                  a.mean_words);
    }
  }
  if (args.json) {
    json j = {{"dataset", args.beir}, {"split", args.split}, {"documents", r.documents},
              {"queries", r.queries}, {"ndcg@10", r.ndcg10}, {"recall@100", r.recall100},
              {"mrr@10", r.mrr10}, {"index_seconds", r.index_seconds},
              {"query_p50_ms", r.query_p50_ms}, {"query_p99_ms", r.query_p99_ms},
              {"bm25_k1", config.bm25_k1}, {"bm25_b", config.bm25_b}};
    json modes_json = json::array();
    for (const auto& f : r.modes)
      modes_json.push_back({{"mode", f.mode}, {"ndcg@10", f.ndcg10}, {"recall@100", f.recall100},
                            {"mrr@10", f.mrr10}, {"query_p50_ms", f.query_p50_ms}});
    j["modes"] = modes_json;
    if (!config.embedder.empty()) {
      j["fusion"] = config.fusion;
      j["rrf_k"] = config.rrf_k;
      j["fusion_weight"] = config.fusion_weight;
    }
    if (args.answers && a.questions > 0) {
      j["answer_questions"] = a.questions;
      j["answer_in_extract"] = a.in_extract;
      j["answer_in_top1_passage"] = a.in_top1_passage;
      j["answer_in_top_passages"] = a.in_top_passages;
      j["answer_p50_ms"] = a.p50_ms;
      j["answer_p99_ms"] = a.p99_ms;
      j["answer_mean_words"] = a.mean_words;
    }
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

int CmdAnalyze(const Config& config, const CommandArgs& args) {
  bool reliable = false;
  std::string lang = args.languages.empty() ? DetectLanguage(args.query, &reliable) : args.languages[0];
  if (lang.empty()) lang = config.default_language;
  std::printf("language %s%s\n", lang.c_str(),
              args.languages.empty() ? (reliable ? " (detected)" : " (detected, unsure)") : "");
  std::vector<Token> toks;
  Analyzer::Analyze(args.query, lang, &toks);
  for (const auto& t : toks)
    std::printf("%s\t%s\n", args.query.substr(t.begin, t.end - t.begin).c_str(), t.term.c_str());
  return 0;
}

int CmdReindex(const Config& config) {
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  ProgressBar bar("reindexing");
  auto t0 = std::chrono::steady_clock::now();
  Status st = (*engine)->Rebuild([&](size_t d, size_t n) { bar.Update(d, n); });
  bar.Finish();
  if (!st.ok()) return Fail("reindex failed: " + st.message());
  IndexStats s = (*engine)->index().Stats();
  std::printf("reindexed %llu chunks into %zu segment(s) in %.2f s\n",
              static_cast<unsigned long long>(s.live_chunks), s.segments,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

int CmdVerify(const Config& config) {
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  Engine& e = **engine;
  Status st = e.store().Verify();
  if (!st.ok()) return Fail(st.message());
  // The index must hold exactly the store's chunks, once each.
  std::set<int64_t> indexed;
  auto snap = e.index().snapshot();
  for (const auto& v : snap->segments)
    for (uint32_t l = 0; l < v.segment->n_docs(); ++l)
      if (!v.deleted->contains(l) && !indexed.insert(v.segment->chunk_id(l)).second)
        return Fail("index holds chunk " + std::to_string(v.segment->chunk_id(l)) + " twice; run `savoir reindex`");
  auto ids = e.store().AllDocumentIds();
  if (!ids.ok()) return Fail(ids.status().message());
  size_t chunks = 0;
  for (int64_t id : *ids) {
    auto cs = e.store().GetChunks(id);
    if (!cs.ok()) return Fail(cs.status().message());
    for (const auto& c : *cs) {
      ++chunks;
      if (!indexed.count(c.id))
        return Fail("chunk " + std::to_string(c.id) + " of document " + std::to_string(id) +
                    " is missing from the index; run `savoir reindex`");
    }
  }
  if (chunks != indexed.size())
    return Fail("index holds " + std::to_string(indexed.size() - chunks) +
                " chunk(s) that the store does not; run `savoir reindex`");
  std::printf("ok: %zu documents, %zu chunks, index in step with the store\n", ids->size(), chunks);
  return 0;
}

int CmdStatus(const Config& config) {
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  auto sources = (*engine)->store().ListSources();
  if (!sources.ok()) return Fail(sources.status().message());
  std::printf("data folder  %s\n", config.data_dir.c_str());
  for (const auto& s : *sources)
    std::printf("source %lld  %-6s %6lld documents  %s\n", static_cast<long long>(s.id), s.kind.c_str(),
                static_cast<long long>(s.documents), s.name.c_str());
  IndexStats st = (*engine)->index().Stats();
  std::printf("index        %llu chunks (%llu deleted) in %zu segment(s), %.1f MB\n",
              static_cast<unsigned long long>(st.live_chunks),
              static_cast<unsigned long long>(st.deleted_chunks), st.segments, st.bytes / 1048576.0);
  if (!config.embedder.empty()) {
    VectorStatus vs = (*engine)->vector_status();
    if (!(*engine)->vector_error().empty())
      std::printf("vectors      off: %s\n", (*engine)->vector_error().c_str());
    else if (vs.model.empty())
      std::printf("vectors      none yet (run `savoir index` or `savoir serve` to embed)\n");
    else
      std::printf("vectors      %zu of model %s, %lld change(s) pending\n", vs.vectors, vs.model.c_str(),
                  static_cast<long long>(vs.pending));
    if (!vs.building.empty())
      std::printf("building     %zu vectors of model %s, %lld change(s) to go\n", vs.building_vectors,
                  vs.building.c_str(), static_cast<long long>(vs.building_pending));
  } else {
    std::printf("vectors      off (no --embedder): keyword search\n");
  }
  return 0;
}

}  // namespace savoir
