#include "ingest/ingestor.h"

#include <sodium.h>

#include <map>

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

Status IngestDocument(Store& store, int64_t source_id, SourceDocument& src,
                      const IngestOptions& options) {
  ParsedDocument& p = src.parsed;
  p.text = SanitizeUtf8(p.text);
  DocumentRecord doc;
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
  std::vector<ChunkRecord> chunks;
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
  Status st = store.PutDocument(&doc, &chunks);
  p.text = std::move(doc.content);
  return st;
}

}  // namespace savoir
