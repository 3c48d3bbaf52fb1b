// Turns a source's document into stored records: chunk, detect each chunk's
// language, hash, and write it (document + chunks + access list + change-log
// entry) to the store in one step. Connectors call this; the index catches
// up from the change log (index_builder.h).
#pragma once

#include <string>
#include <vector>

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

// What IngestDocument writes, before the store: the document record (its
// text moved out of `doc`) and its chunks with their languages. Touches no
// shared state: documents can be prepared on several threads at once.
struct PreparedDocument {
  DocumentRecord doc;
  std::vector<ChunkRecord> chunks;
};
PreparedDocument PrepareDocument(int64_t source_id, SourceDocument& doc, const IngestOptions& options);

// IngestDocument for a batch, in order: prepared on up to `threads` threads
// (0: every core, at most 8) and written one by one, in order, as they are
// ready (the writes overlap the preparing of the next). Stops at the first
// store error (the documents before it are written, as with a loop of
// IngestDocument; inside a transaction, nothing is).
Status IngestBatch(Store& store, int64_t source_id, std::vector<SourceDocument>& docs, const IngestOptions& options,
                   unsigned threads = 0);

// Hex BLAKE2b-128 of `bytes` (libsodium).
std::string ContentHash(std::string_view bytes);

}  // namespace savoir
