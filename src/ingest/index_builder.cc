#include "ingest/index_builder.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "index/analyzer.h"

namespace savoir {

IndexedChunk MakeIndexedChunk(const DocumentRecord& doc, const ChunkRecord& chunk) {
  IndexedChunk ic;
  ic.chunk_id = chunk.id;
  ic.doc_id = doc.id;
  ic.updated_at = doc.updated_at;
  const std::string& lang = chunk.language;
  std::vector<Token> toks;
  std::vector<std::string> variants;
  // The title counts twice (a poor man's BM25F field weight; measured on
  // SciFact and PIAF), then the heading path, then the text.
  Analyzer::Analyze(doc.title, lang, &toks, &variants);
  Analyzer::Analyze(doc.title, lang, &toks, &variants);
  if (!chunk.heading_path.empty()) Analyzer::Analyze(chunk.heading_path, lang, &toks, &variants);
  Analyzer::Analyze(std::string_view(doc.content).substr(chunk.begin, chunk.end - chunk.begin), lang,
                    &toks, &variants);
  ic.terms.reserve(toks.size() * 2);
  for (auto& t : toks) ic.terms.push_back(t.term);
  ic.length = static_cast<uint32_t>(ic.terms.size());
  // Adjacent pairs (after stop-word removal) as extra terms: they do not
  // count in the BM25 length.
  for (size_t i = 1; i < toks.size(); ++i) ic.terms.push_back(BigramTerm(toks[i - 1].term, toks[i].term));
  for (auto& v : variants) ic.terms.push_back(std::move(v));
  for (const auto& e : doc.acl) ic.facets.push_back("acl:" + e);
  ic.facets.push_back("src:" + std::to_string(doc.source_id));
  if (!lang.empty()) ic.facets.push_back("lang:" + lang);
  return ic;
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
    std::vector<IndexedChunk> batch(batch_chunks);
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < pending.size();)
        for (size_t c = 0; c < pending[i].chunks.size(); ++c)
          batch[pending[i].first + c] = MakeIndexedChunk(pending[i].doc, pending[i].chunks[c]);
    };
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < n_threads && pending.size() > 64; ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    SAVOIR_RETURN_IF_ERROR(index.Commit(batch, removed, seq));
    pending.clear();
    removed.clear();
    batch_chunks = 0;
    return Status::Ok();
  };
  for (size_t i = 0; i < touched.size(); ++i) {
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
