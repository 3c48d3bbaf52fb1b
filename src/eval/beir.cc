#include "eval/beir.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "embed/pipeline.h"
#include "eval/answer_eval.h"
#include "ingest/index_builder.h"
#include "store/store.h"

namespace savoir {
namespace {
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

Status ForEachJsonLine(const std::string& path, const std::function<Status(const json&, size_t)>& fn) {
  std::ifstream in(path);
  if (!in) return Status(ErrorKind::kNotFound, "cannot open " + path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Status(ErrorKind::kInvalidArgument, path + ":" + std::to_string(n) + ": not a JSON object");
    SAVOIR_RETURN_IF_ERROR(fn(j, n));
  }
  return Status::Ok();
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

Result<BeirDataset> LoadBeirQueries(const std::string& dir, const std::string& split) {
  BeirDataset ds;
  std::string qrels_path = dir + "/qrels/" + split + ".tsv";
  std::ifstream in(qrels_path);
  if (!in) return Status(ErrorKind::kNotFound, "cannot open " + qrels_path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (n == 1 && line.rfind("query-id", 0) == 0)) continue;
    size_t a = line.find('\t'), b = line.find('\t', a + 1);
    if (a == std::string::npos || b == std::string::npos)
      return Status(ErrorKind::kInvalidArgument, qrels_path + ":" + std::to_string(n) + ": expected 3 tab-separated fields");
    ds.qrels[line.substr(0, a)][line.substr(a + 1, b - a - 1)] = std::atoi(line.c_str() + b + 1);
  }
  SAVOIR_RETURN_IF_ERROR(ForEachJsonLine(dir + "/queries.jsonl", [&](const json& j, size_t) {
    BeirQuery q{Str(j, "_id"), Str(j, "text"), {}};
    if (!ds.qrels.count(q.id)) return Status::Ok();  // not judged in this split
    if (auto m = j.find("metadata"); m != j.end() && m->is_object()) {
      if (auto a = m->find("answers"); a != m->end() && a->is_array())
        for (const auto& s : *a)
          if (s.is_string()) q.answers.push_back(s.get<std::string>());
    }
    ds.queries.push_back(std::move(q));
    return Status::Ok();
  }));
  return ds;
}

Status IngestBeirCorpus(Store& store, const std::string& dir, const IngestOptions& options,
                        int64_t* source_id, size_t* documents) {
  SAVOIR_ASSIGN_OR_RETURN(*source_id, store.EnsureSource("beir", dir));
  return store.InTransaction([&]() -> Status {
    // Batches of 512 documents, chunked and language-detected on every
    // core, then written in order (IngestBatch).
    std::vector<SourceDocument> batch;
    SAVOIR_RETURN_IF_ERROR(ForEachJsonLine(dir + "/corpus.jsonl", [&](const json& j, size_t) {
      SourceDocument doc;
      doc.external_id = Str(j, "_id");
      doc.parsed.title = Str(j, "title");
      doc.parsed.text = Str(j, "text");
      doc.parsed.format = "text";
      ++*documents;
      batch.push_back(std::move(doc));
      if (batch.size() < 512) return Status::Ok();
      Status st = IngestBatch(store, *source_id, batch, options);
      batch.clear();
      return st;
    }));
    return IngestBatch(store, *source_id, batch, options);
  });
}

Result<EvalReport> RunBeirEval(const EvalOptions& opt) {
  EvalReport report;
  SAVOIR_ASSIGN_OR_RETURN(BeirDataset ds, LoadBeirQueries(opt.dir, opt.split));
  if (ds.queries.empty())
    return Status(ErrorKind::kInvalidArgument, "no judged queries in " + opt.dir + " for split " + opt.split);

  std::filesystem::remove_all(opt.work_dir);
  std::filesystem::create_directories(opt.work_dir);
  SAVOIR_ASSIGN_OR_RETURN(auto store, OpenSqliteStore(opt.work_dir + "/savoir.db"));
  SAVOIR_ASSIGN_OR_RETURN(auto index, KeywordIndex::Open(opt.work_dir + "/index"));
  auto t0 = Clock::now();
  int64_t source = 0;
  SAVOIR_RETURN_IF_ERROR(IngestBeirCorpus(*store, opt.dir, opt.ingest, &source, &report.documents));
  auto t1 = Clock::now();
  SAVOIR_RETURN_IF_ERROR(CatchUpIndex(*store, *index));
  report.store_seconds = std::chrono::duration<double>(t1 - t0).count();
  report.index_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  // Store ids back to BEIR ids.
  SAVOIR_ASSIGN_OR_RETURN(auto docs, store->ListDocuments(source));
  std::unordered_map<int64_t, std::string> external;
  for (auto& [ext, id] : docs) external[id] = ext;

  Searcher searcher(*index, opt.searcher);
  std::unique_ptr<EmbeddingPipeline> vectors;
  bool need_vectors = false;
  for (auto m : opt.modes) need_vectors |= m == RetrievalMode::kDense || m == RetrievalMode::kHybrid;
  if (need_vectors) {
    if (!opt.embedder)
      return Status(ErrorKind::kInvalidArgument, "dense and hybrid modes need an embedder (--embedder)");
    auto te = Clock::now();
    SAVOIR_ASSIGN_OR_RETURN(vectors, EmbeddingPipeline::Open(opt.work_dir + "/vectors", opt.embedder, "{}", nullptr));
    SAVOIR_RETURN_IF_ERROR(vectors->CatchUp(*store));
    report.embed_seconds = std::chrono::duration<double>(Clock::now() - te).count();
  }
  EmbeddingPipeline* vp = vectors.get();
  HybridSearcher hybrid(searcher, *index, *store,
                        [vp]() -> std::shared_ptr<const VectorSpace> { return vp ? vp->serving() : nullptr; },
                        opt.hybrid);
  static const char* kNames[] = {"auto", "bm25", "dense", "hybrid"};
  for (RetrievalMode mode : opt.modes) {
    ModeFigures f;
    f.mode = kNames[static_cast<int>(mode)];
    std::vector<double> latencies;
    for (const auto& q : ds.queries) {
      SearchRequest req;
      req.query = q.text;
      req.principal.all_access = true;
      req.k = 101;  // one spare: a doc whose id equals the query id is dropped
      auto t = Clock::now();
      auto hits = hybrid.Search(req, nullptr, mode);
      latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      if (!hits.ok() && mode != RetrievalMode::kKeyword && hits.status().kind() != ErrorKind::kInvalidArgument)
        return hits.status();
      std::vector<std::string> ranking;
      if (hits.ok()) {
        for (const auto& h : *hits) {
          const std::string& id = external[h.doc_id];
          if (id != q.id) ranking.push_back(id);
        }
      }
      const Qrels& qr = ds.qrels[q.id];
      f.ndcg10 += NdcgAt(ranking, qr, 10);
      f.recall100 += RecallAt(ranking, qr, 100);
      f.mrr10 += MrrAt(ranking, qr, 10);
    }
    f.ndcg10 /= ds.queries.size();
    f.recall100 /= ds.queries.size();
    f.mrr10 /= ds.queries.size();
    double sum = 0;
    for (double l : latencies) sum += l;
    f.query_mean_ms = sum / latencies.size();
    f.query_p50_ms = Percentile(latencies, 50);
    f.query_p99_ms = Percentile(latencies, 99);
    report.modes.push_back(f);
  }
  report.queries = ds.queries.size();
  if (!report.modes.empty()) {
    const ModeFigures& f = report.modes.front();
    report.ndcg10 = f.ndcg10;
    report.recall100 = f.recall100;
    report.mrr10 = f.mrr10;
    report.query_mean_ms = f.query_mean_ms;
    report.query_p50_ms = f.query_p50_ms;
    report.query_p99_ms = f.query_p99_ms;
  }
  if (opt.answers) {
    auto answerer = MakeExtractiveAnswerer(opt.answerer);
    SAVOIR_ASSIGN_OR_RETURN(report.answers, RunAnswerEval(ds.queries, searcher, *store, *answerer, opt.answer_k));
  }
  return report;
}

}  // namespace savoir
