#include "ingest/ingestor.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <map>
#include <thread>

#include "common/utf8.h"
#include "index/analyzer.h"

namespace savoir {

std::string ContentHash(std::string_view bytes) {
  unsigned char out[16];
  crypto_generichash(out, sizeof(out), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : out) {
    s.push_back(hex[c >> 4]);
    s.push_back(hex[c & 15]);
  }
  return s;
}

PreparedDocument PrepareDocument(int64_t source_id, SourceDocument& src, const IngestOptions& options) {
  ParsedDocument& p = src.parsed;
  SanitizeUtf8InPlace(&p.text);
  PreparedDocument out;
  DocumentRecord& doc = out.doc;
  doc.source_id = source_id;
  doc.external_id = src.external_id;
  doc.title = SanitizeUtf8(p.title.empty() ? src.external_id : p.title);
  doc.url = src.url;
  doc.author = p.author;
  doc.created_at = p.created_at;
  doc.updated_at = src.updated_at;
  doc.acl = src.acl;
  doc.metadata_json = src.metadata_json;
  doc.content_hash = src.content_hash.empty() ? ContentHash(p.text) : src.content_hash;

  // Language: each chunk is detected once; the document's language is the
  // one most of its text is detected in (or what the format declares).
  // Chunks CLD2 is unsure about take the document's language.
  std::vector<ChunkRecord>& chunks = out.chunks;
  std::vector<std::pair<std::string, bool>> detected;
  std::map<std::string, size_t> bytes_per_language;
  int32_t ordinal = 0;
  for (const ChunkSpan& span : ChunkDocument(p, options.chunker)) {
    ChunkRecord c;
    c.ordinal = ordinal++;
    c.begin = span.begin;
    c.end = span.end;
    c.heading_path = p.heading_prefix.empty() || span.heading_path.empty()
                         ? p.heading_prefix + span.heading_path
                         : p.heading_prefix + " > " + span.heading_path;
    c.tokens = span.tokens;
    bool reliable = false;
    std::string lang = DetectLanguageAmong(std::string_view(p.text).substr(span.begin, span.end - span.begin),
                                           options.languages, &reliable);
    if (!lang.empty()) bytes_per_language[lang] += span.end - span.begin;
    detected.emplace_back(lang, reliable);
    chunks.push_back(std::move(c));
  }
  std::string doc_lang = p.language.size() == 2 ? p.language : "";
  if (doc_lang.empty()) {
    size_t best = 0;
    for (const auto& [lang, n] : bytes_per_language)
      if (n > best) best = n, doc_lang = lang;
  }
  if (doc_lang.empty()) doc_lang = options.default_language;
  doc.language = doc_lang;
  for (size_t i = 0; i < chunks.size(); ++i)
    chunks[i].language = detected[i].second && !detected[i].first.empty() ? detected[i].first : doc_lang;
  doc.content = std::move(p.text);
  return out;
}

Status IngestDocument(Store& store, int64_t source_id, SourceDocument& src, const IngestOptions& options) {
  PreparedDocument prepared = PrepareDocument(source_id, src, options);
  Status st = store.PutDocument(&prepared.doc, &prepared.chunks);
  src.parsed.text = std::move(prepared.doc.content);
  return st;
}

Status IngestBatch(Store& store, int64_t source_id, std::vector<SourceDocument>& docs, const IngestOptions& options,
                   unsigned threads) {
  if (docs.empty()) return Status::Ok();
  if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  threads = static_cast<unsigned>(std::clamp<size_t>((docs.size() + 15) / 16, 1, threads));  // >= 16 docs a thread
  // Helpers prepare documents in claim order; this thread writes them in
  // order as they become ready, and prepares too while the next one is not:
  // the store writes overlap the preparing instead of following it.
  const size_t n = docs.size();
  std::vector<PreparedDocument> prepared(n);
  std::vector<char> ready(n, 0);  // guarded by `mu`
  std::atomic<size_t> next_claim{0};
  std::mutex mu;
  std::condition_variable became_ready;
  auto prepare_one = [&]() -> bool {
    size_t i = next_claim.fetch_add(1);
    if (i >= n) return false;
    prepared[i] = PrepareDocument(source_id, docs[i], options);
    {
      std::lock_guard<std::mutex> lock(mu);
      ready[i] = 1;
    }
    became_ready.notify_all();
    return true;
  };
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t)
    helpers.emplace_back([&] {
      while (prepare_one()) {
      }
    });
  Status status = Status::Ok();
  size_t written = 0;  // documents handed to the store (the last may have failed)
  while (written < n && status.ok()) {
    const size_t i = written++;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu);
        if (ready[i]) break;
        if (next_claim.load() >= n) {  // claimed by a helper, still being prepared
          became_ready.wait(lock, [&] { return ready[i] != 0; });
          break;
        }
      }
      prepare_one();
    }
    status = store.PutDocument(&prepared[i].doc, &prepared[i].chunks);
    docs[i].parsed.text = std::move(prepared[i].doc.content);
  }
  next_claim.store(n);  // on an error, helpers stop after the document in hand
  for (auto& helper : helpers) helper.join();
  for (size_t i = written; i < n; ++i)  // after an error: texts back to their documents
    if (ready[i]) docs[i].parsed.text = std::move(prepared[i].doc.content);
  return status;
}

}  // namespace savoir
