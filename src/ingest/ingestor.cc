#include "ingest/ingestor.h"

#include <sodium.h>

#include <algorithm>
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
  p.text = SanitizeUtf8(p.text);
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
  std::vector<PreparedDocument> prepared(docs.size());
  auto work = [&](size_t t) {
    for (size_t i = t; i < docs.size(); i += threads) prepared[i] = PrepareDocument(source_id, docs[i], options);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (size_t i = 0; i < docs.size(); ++i) {
    Status st = store.PutDocument(&prepared[i].doc, &prepared[i].chunks);
    docs[i].parsed.text = std::move(prepared[i].doc.content);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace savoir
