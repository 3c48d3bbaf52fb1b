#include "ingest/index_builder.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "index/analyzer.h"

namespace savoir {

void AddChunkTo(SegmentWriter& writer, const DocumentRecord& doc, const ChunkRecord& chunk) {
  const std::string& lang = chunk.language;
  thread_local std::vector<Token> toks;
  thread_local std::vector<std::string> variants;
  thread_local std::vector<uint32_t> ids;
  toks.clear();
  variants.clear();
  // The title counts twice (a poor man's BM25F field weight; measured on
  // SciFact and PIAF), then the heading path, then the text.
  Analyzer::Analyze(doc.title, lang, &toks, &variants);
  const size_t title_toks = toks.size(), title_variants = variants.size();
  for (size_t i = 0; i < title_toks; ++i) toks.push_back(toks[i]);
  for (size_t i = 0; i < title_variants; ++i) variants.push_back(variants[i]);
  if (!chunk.heading_path.empty()) Analyzer::Analyze(chunk.heading_path, lang, &toks, &variants);
  Analyzer::Analyze(std::string_view(doc.content).substr(chunk.begin, chunk.end - chunk.begin), lang,
                    &toks, &variants);
  const uint32_t local =
      writer.AddDoc(chunk.id, doc.id, doc.updated_at, static_cast<uint32_t>(toks.size()));
  ids.clear();
  for (const auto& t : toks) ids.push_back(writer.AddTerm(local, t.term));
  // Adjacent pairs (after stop-word removal) as extra terms, BigramTerm():
  // they do not count in the BM25 length.
  for (size_t i = 1; i < ids.size(); ++i) writer.AddPair(local, ids[i - 1], ids[i]);
  for (const auto& v : variants) writer.AddTerm(local, v);
  for (const auto& e : doc.acl) writer.AddFacet("acl:" + e, local);
  writer.AddFacet("src:" + std::to_string(doc.source_id), local);
  if (!lang.empty()) writer.AddFacet("lang:" + lang, local);
}

Status CatchUpIndex(Store& store, KeywordIndex& index, const IndexBuildOptions& options,
                    const ProgressFn& progress) {
  SAVOIR_ASSIGN_OR_RETURN(int64_t last, store.LastChangeSeq());
  int64_t applied = index.applied_seq();
  if (applied >= last) return Status::Ok();

  // Which documents changed since the index last caught up. On an empty
  // index this is every document (read from the documents table, not the
  // whole log, so a rebuild costs the corpus and not its history).
  SAVOIR_ASSIGN_OR_RETURN(std::vector<int64_t> touched,
                          DocumentsToRevisit(store, applied, applied == 0 && index.snapshot()->segments.empty()));

  // Documents are read from the store in order, analyzed on every core,
  // and committed as one segment per batch.
  struct Pending {
    DocumentRecord doc;
    std::vector<ChunkRecord> chunks;
    size_t first = 0;  // index of its first chunk in the batch
  };
  std::vector<Pending> pending;
  std::vector<int64_t> removed;
  size_t batch_chunks = 0, done = 0;
  const unsigned n_threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  auto flush = [&](int64_t seq) -> Status {
    // Each thread analyzes a contiguous run of the batch straight into its
    // own writer; the runs are written as one segment, in order.
    const size_t n_parts = pending.size() > 64 ? n_threads : 1;
    std::vector<SegmentWriter> parts(pending.empty() ? 0 : n_parts);
    std::vector<size_t> bounds = {0};  // runs of about equal chunk counts
    for (size_t p = 1; p < parts.size(); ++p) {
      size_t i = bounds.back();
      while (i < pending.size() && pending[i].first < batch_chunks * p / parts.size()) ++i;
      bounds.push_back(i);
    }
    bounds.push_back(pending.size());
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    auto work = [&](size_t p) {
      Analyzer::BulkScope bulk;
      for (size_t i = bounds[p]; i < bounds[p + 1]; ++i)
        for (const auto& chunk : pending[i].chunks) AddChunkTo(parts[p], pending[i].doc, chunk);
    };
    std::vector<std::thread> threads;
    for (size_t p = 1; p < parts.size(); ++p) threads.emplace_back(work, p);
    if (!parts.empty()) work(0);
    for (auto& t : threads) t.join();
    const auto t1 = Clock::now();
    SAVOIR_RETURN_IF_ERROR(index.CommitParts(parts, removed, seq));
    if (options.stats) {
      options.stats->analyze_s += std::chrono::duration<double>(t1 - t0).count();
      options.stats->write_s += std::chrono::duration<double>(Clock::now() - t1).count();
    }
    pending.clear();
    removed.clear();
    batch_chunks = 0;
    return Status::Ok();
  };
  for (size_t i = 0; i < touched.size(); ++i) {
    const auto read_start = std::chrono::steady_clock::now();
    int64_t id = touched[i];
    removed.push_back(id);  // old chunks of a changed document go
    auto doc = store.GetDocument(id);
    if (doc.ok()) {
      Pending p;
      SAVOIR_ASSIGN_OR_RETURN(p.chunks, store.GetChunks(id));
      p.doc = std::move(doc).value();
      p.first = batch_chunks;
      batch_chunks += p.chunks.size();
      pending.push_back(std::move(p));
    } else if (doc.status().kind() != ErrorKind::kNotFound) {
      return doc.status();
    }
    ++done;
    if (options.stats)
      options.stats->read_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - read_start).count();
    bool last_one = i + 1 == touched.size();
    // Intermediate commits keep the old applied_seq: a crash replays them.
    if (batch_chunks >= options.chunks_per_segment || last_one)
      SAVOIR_RETURN_IF_ERROR(flush(last_one ? last : applied));
    if (progress && (done % 256 == 0 || last_one)) progress(done, touched.size());
  }
  if (touched.empty()) SAVOIR_RETURN_IF_ERROR(index.Commit({}, {}, last));
  return Status::Ok();
}

}  // namespace savoir
