#include "ingest/index_builder.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <chrono>
#include <thread>

#include "index/analyzer.h"

namespace savoir {

namespace {

// What each word gives in one segment writer, per language: its term id
// and its accent-less variant's id (kNoTerm: none; a stop word has
// neither). An index build sees the same words again and again: one lookup
// here replaces stop-word check, stemming and term interning.
class WordIds {
 public:
  struct Ids {
    uint32_t term, variant;
  };
  struct Table;
  // The table of `language` in `writer` (looked up once per chunk).
  Table& For(SegmentWriter& writer, std::string_view language) {
    if (writer_ != writer.uid()) {
      tables_.clear();
      writer_ = writer.uid();
    }
    for (auto& [lang, table] : tables_)
      if (lang == language) return table;
    tables_.emplace_back(std::string(language), Table());
    return tables_.back().second;
  }
  // The ids of lower-cased `word` in the writer and language of `t`,
  // computed on first sight.
  Ids Get(Table& t, SegmentWriter& writer, std::string_view language, std::string_view word) {
    const uint64_t h = std::hash<std::string_view>()(word);
    size_t mask = t.slots.size() - 1;
    for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
      const uint32_t s = t.slots[pos];
      if (s == 0) break;
      const Entry& e = t.entries[s - 1];
      if (e.hash == h && e.len == word.size() && std::memcmp(t.arena.data() + e.at, word.data(), word.size()) == 0)
        return e.ids;
    }
    Ids ids{SegmentWriter::kNoTerm, SegmentWriter::kNoTerm};
    if (Analyzer::NormalizeWord(word, language, &term_, &variant_)) {
      if (!term_.empty()) ids.term = writer.TermId(term_);
      if (!variant_.empty()) ids.variant = writer.TermId(variant_);
    }
    if (t.entries.size() * 2 >= t.slots.size()) {
      t.slots.assign(t.slots.size() * 2, 0);
      mask = t.slots.size() - 1;
      for (size_t i = 0; i < t.entries.size(); ++i) {
        size_t pos = t.entries[i].hash & mask;
        while (t.slots[pos]) pos = (pos + 1) & mask;
        t.slots[pos] = static_cast<uint32_t>(i + 1);
      }
    }
    size_t pos = h & mask;
    while (t.slots[pos]) pos = (pos + 1) & mask;
    t.entries.push_back(Entry{h, static_cast<uint32_t>(t.arena.size()), static_cast<uint32_t>(word.size()), ids});
    t.arena.append(word);
    t.slots[pos] = static_cast<uint32_t>(t.entries.size());
    return ids;
  }

 private:
  struct Entry {
    uint64_t hash;
    uint32_t at, len;  // the word in arena
    Ids ids;
  };

 public:
  struct Table {
    std::vector<uint32_t> slots = std::vector<uint32_t>(1024, 0);  // entry + 1; 0 = empty
    std::vector<Entry> entries;
    std::string arena;
  };

 private:
  uint64_t writer_ = 0;
  std::vector<std::pair<std::string, Table>> tables_;  // a few languages

 public:
  // Frees the tables (a long-lived thread keeps no memory between builds).
  void Release() {
    tables_ = {};
    writer_ = 0;
  }

 private:
  std::string term_, variant_;
};

WordIds& ThreadWordIds() {
  thread_local WordIds words;
  return words;
}

}  // namespace

void AddChunkTo(SegmentWriter& writer, const DocumentRecord& doc, const ChunkRecord& chunk) {
  const std::string& lang = chunk.language;
  WordIds& words = ThreadWordIds();
  thread_local std::vector<uint32_t> ids, variants;
  ids.clear();
  variants.clear();
  WordIds::Table& table = words.For(writer, lang);
  auto add = [&](std::string_view text) {
    Analyzer::ForEachWord(text, [&](std::string_view word, uint32_t, uint32_t) {
      const WordIds::Ids w = words.Get(table, writer, lang, word);
      if (w.variant != SegmentWriter::kNoTerm) variants.push_back(w.variant);
      if (w.term != SegmentWriter::kNoTerm) ids.push_back(w.term);
    });
  };
  // The title counts twice (a poor man's BM25F field weight; measured on
  // SciFact and PIAF), then the heading path, then the text.
  add(doc.title);
  const size_t title_ids = ids.size(), title_variants = variants.size();
  for (size_t i = 0; i < title_ids; ++i) ids.push_back(ids[i]);
  for (size_t i = 0; i < title_variants; ++i) variants.push_back(variants[i]);
  if (!chunk.heading_path.empty()) add(chunk.heading_path);
  add(std::string_view(doc.content).substr(chunk.begin, chunk.end - chunk.begin));
  // The BM25 length counts the words indexed (stop words out).
  const uint32_t local = writer.AddDoc(chunk.id, doc.id, doc.updated_at, static_cast<uint32_t>(ids.size()));
  for (uint32_t id : ids) writer.AddOccurrence(local, id);
  // Adjacent pairs (after stop-word removal) as extra terms, BigramTerm():
  // they do not count in the BM25 length.
  for (size_t i = 1; i < ids.size(); ++i) writer.AddPair(local, ids[i - 1], ids[i]);
  for (uint32_t v : variants) writer.AddOccurrence(local, v);
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
      for (size_t i = bounds[p]; i < bounds[p + 1]; ++i)
        for (const auto& chunk : pending[i].chunks) AddChunkTo(parts[p], pending[i].doc, chunk);
      ThreadWordIds().Release();
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
  // Documents are read 256 at a time (one read transaction each: a
  // statement outside one takes and drops the database's locks).
  constexpr size_t kReadGroup = 256;
  for (size_t g = 0; g < touched.size(); g += kReadGroup) {
    const auto read_start = std::chrono::steady_clock::now();
    const std::vector<int64_t> ids(touched.begin() + g, touched.begin() + std::min(touched.size(), g + kReadGroup));
    auto read = store.GetDocumentsWithChunks(ids);
    if (options.stats)
      options.stats->read_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - read_start).count();
    for (size_t k = 0; k < ids.size(); ++k) {
      const size_t i = g + k;
      removed.push_back(ids[k]);  // old chunks of a changed document go
      if (read[k].ok()) {
        Pending p;
        p.doc = std::move(read[k]->doc);
        p.chunks = std::move(read[k]->chunks);
        p.first = batch_chunks;
        batch_chunks += p.chunks.size();
        pending.push_back(std::move(p));
      } else if (read[k].status().kind() != ErrorKind::kNotFound) {
        return read[k].status();
      }
      ++done;
      bool last_one = i + 1 == touched.size();
      // Intermediate commits keep the old applied_seq: a crash replays them.
      if (batch_chunks >= options.chunks_per_segment || last_one)
        SAVOIR_RETURN_IF_ERROR(flush(last_one ? last : applied));
      if (progress && (done % 256 == 0 || last_one)) progress(done, touched.size());
    }
  }
  if (touched.empty()) SAVOIR_RETURN_IF_ERROR(index.Commit({}, {}, last));
  return Status::Ok();
}

}  // namespace savoir
