// Turns a source's document into stored records: chunk, detect each chunk's
// language, hash, and write it (document + chunks + access list + change-log
// entry) to the store in one step. Connectors call this; the index catches
// up from the change log (index_builder.h).
#pragma once

#include <string>

#include "common/status.h"
#include "ingest/chunker.h"
#include "ingest/parsed_document.h"
#include "store/store.h"

namespace savoir {

struct SourceDocument {
  std::string external_id;
  std::string url;
  ParsedDocument parsed;
  AccessList acl = {"public"};
  int64_t updated_at = 0;
  std::string content_hash;  // of the raw bytes; computed from the text when empty
  std::string metadata_json = "{}";
};

struct IngestOptions {
  ChunkerOptions chunker;
  std::string default_language = "en";  // when detection is not reliable
  std::vector<std::string> languages = {"en", "fr"};  // detection chooses among these
};

Status IngestDocument(Store& store, int64_t source_id, SourceDocument& doc,
                      const IngestOptions& options);

// Hex BLAKE2b-128 of `bytes` (libsodium).
std::string ContentHash(std::string_view bytes);

}  // namespace savoir
