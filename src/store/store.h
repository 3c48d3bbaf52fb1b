// The system of record. Everything the search index holds is derived from
// what is here (documents, chunks, access lists, the change log), so the index
// can be rebuilt at any time. SqliteStore is the embedded default; a
// PostgreSQL implementation will pass the same tests (tests/unit/store_test.cc
// is written against this interface).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace savoir {

struct SourceRecord {
  int64_t id = 0;
  std::string kind;  // "files", "beir", later "slack", "confluence", "web"
  std::string name;  // unique, e.g. the folder path
  std::string config_json = "{}";
  int64_t created_at = 0;
  int64_t documents = 0;  // filled by ListSources
};

// Access list entries: "public", "user:<login>", "group:<name>".
using AccessList = std::vector<std::string>;

struct ChunkRecord {
  int64_t id = 0;
  int64_t document_id = 0;
  int32_t ordinal = 0;
  uint32_t begin = 0, end = 0;  // byte range in DocumentRecord::content
  std::string heading_path;     // "Title > Section > Subsection"
  std::string language;         // ISO 639-1 detected for this chunk
  int32_t tokens = 0;
};

struct DocumentRecord {
  int64_t id = 0;
  int64_t source_id = 0;
  std::string external_id;  // the source's own id (relative path, message ts, ...)
  std::string title, url, language, content_hash, author;
  std::string content;        // extracted plain text
  std::string metadata_json = "{}";
  int64_t created_at = 0, updated_at = 0, indexed_at = 0;
  AccessList acl;
};

// A chunk with what a search result or an answer needs of its document —
// everything but the document's full text — and the chunk's own text.
struct PassageRecord {
  ChunkRecord chunk;
  DocumentRecord doc;  // content left empty
  std::string text;    // doc content [chunk.begin, chunk.end)
};

struct DocumentVersion {
  int64_t id = 0;
  std::string content_hash;
  AccessList acl;
};

// What the last sync runs of a source did (connectors/sync.h writes it).
struct SyncStatus {
  int64_t last_attempt = 0;   // unix seconds; 0 = never ran
  int64_t last_success = 0;   // end of the last run that completed
  int64_t next_run = 0;       // when the next run is due (0 = not scheduled)
  int64_t documents_seen = 0; // documents the last run looked at
  std::vector<std::string> errors;  // of the last run: "what: why" each
};

// One answer's cost (table answer_usage): the language model's figures, or
// zeros for an extractive answer; `error` says why the model failed.
struct AnswerUsageRecord {
  int64_t id = 0;
  int64_t at = 0;  // unix seconds; 0 when recording: now
  std::string model, mode;  // mode: "model", "extractive", "rewrite"
  int64_t prompt_tokens = 0, completion_tokens = 0;
  double latency_ms = 0, first_token_ms = 0;
  std::string error;
};

struct Change {
  int64_t seq = 0;
  int64_t document_id = 0;
  bool deleted = false;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<int64_t> EnsureSource(const std::string& kind, const std::string& name,
                                       const std::string& config_json = "{}") = 0;
  virtual Result<std::vector<SourceRecord>> ListSources() = 0;
  virtual Result<SourceRecord> GetSource(int64_t id) = 0;

  // Deletes the source with all its documents (logged as deletions), its
  // checkpoint and its sync status.
  virtual Status DeleteSource(int64_t id) = 0;
  // Replaces a source's configuration (e.g. after encrypting a credential).
  virtual Status SetSourceConfig(int64_t id, const std::string& config_json) = 0;

  // A connector's opaque resume point: "" until the first SetCheckpoint.
  // Written inside the transaction of the batch it follows, so a crash
  // either keeps both or neither.
  virtual Result<std::string> GetCheckpoint(int64_t source_id) = 0;
  virtual Status SetCheckpoint(int64_t source_id, const std::string& checkpoint) = 0;
  virtual Status RecordSyncStatus(int64_t source_id, const SyncStatus& status) = 0;

  // Per-item resume state of a connector (a web page's ETag, Last-Modified,
  // document id and links), keyed by source + item key, so that state that
  // grows with the source lives here instead of in the checkpoint. Written
  // inside the batch transaction like the checkpoint; `run` stamps the
  // items, and PruneItemStates drops those of earlier runs (items a complete
  // run did not touch). Removed with the source. Stores without them answer
  // kUnsupported.
  virtual Status PutItemStates(int64_t /*source_id*/, int64_t /*run*/,
                               const std::vector<std::pair<std::string, std::string>>& /*items*/) {
    return Status(ErrorKind::kUnsupported, "this store keeps no connector item state");
  }
  // The item's state, or nullopt when there is none.
  virtual Result<std::optional<std::string>> GetItemState(int64_t /*source_id*/, const std::string& /*key*/) {
    return Status(ErrorKind::kUnsupported, "this store keeps no connector item state");
  }
  virtual Status PruneItemStates(int64_t /*source_id*/, int64_t /*before_run*/) {
    return Status(ErrorKind::kUnsupported, "this store keeps no connector item state");
  }
  virtual Result<SyncStatus> GetSyncStatus(int64_t source_id) = 0;

  // Usage per answer: appended (sets id, and at when 0), listed newest first.
  virtual Status RecordAnswerUsage(AnswerUsageRecord* record) = 0;
  virtual Result<std::vector<AnswerUsageRecord>> ListAnswerUsage(size_t limit) = 0;

  // Runs `body` in one transaction (committed if it returns ok). Writes made
  // through this Store inside `body` are part of it.
  virtual Status InTransaction(const std::function<Status()>& body) = 0;

  // Inserts or replaces a document (matched on source + external id) with its
  // chunks and access list; appends to the change log. Sets doc->id and the
  // chunk ids.
  virtual Status PutDocument(DocumentRecord* doc, std::vector<ChunkRecord>* chunks) = 0;
  virtual Status DeleteDocument(int64_t document_id) = 0;

  virtual Result<std::optional<DocumentVersion>> FindDocument(int64_t source_id,
                                                              const std::string& external_id) = 0;
  // external id -> document id of every document of a source.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> ListDocuments(int64_t source_id) = 0;
  virtual Result<DocumentRecord> GetDocument(int64_t document_id) = 0;
  virtual Result<std::vector<ChunkRecord>> GetChunks(int64_t document_id) = 0;
  virtual Result<ChunkRecord> GetChunk(int64_t chunk_id) = 0;
  // One read for a search hit: kNotFound when the chunk is gone (the index
  // may briefly lag the store).
  virtual Result<PassageRecord> GetPassage(int64_t chunk_id) = 0;
  // The passages of a page of hits, element i for chunk_ids[i] as GetPassage
  // would answer it; a store may read them in one transaction.
  virtual std::vector<Result<PassageRecord>> GetPassages(const std::vector<int64_t>& chunk_ids) {
    std::vector<Result<PassageRecord>> out;
    out.reserve(chunk_ids.size());
    for (int64_t id : chunk_ids) out.push_back(GetPassage(id));
    return out;
  }

  // Documents with their chunks, element i for ids[i] as GetDocument and
  // GetChunks would answer it (kNotFound when gone); a store may read them
  // in one transaction.
  struct DocumentWithChunks {
    DocumentRecord doc;
    std::vector<ChunkRecord> chunks;
  };
  virtual std::vector<Result<DocumentWithChunks>> GetDocumentsWithChunks(const std::vector<int64_t>& ids) {
    return GatherDocumentsWithChunks(ids, [&](int64_t id) { return GetDocument(id); },
                                     [&](int64_t id) { return GetChunks(id); });
  }
  // GetDocumentsWithChunks from a document reader and a chunks reader.
  template <typename GetDoc, typename GetChunksOf>
  static std::vector<Result<DocumentWithChunks>> GatherDocumentsWithChunks(const std::vector<int64_t>& ids,
                                                                          GetDoc&& get_doc, GetChunksOf&& get_chunks) {
    std::vector<Result<DocumentWithChunks>> out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      auto doc = get_doc(id);
      if (!doc.ok()) {
        out.push_back(doc.status());
        continue;
      }
      auto chunks = get_chunks(id);
      if (!chunks.ok()) {
        out.push_back(chunks.status());
        continue;
      }
      out.push_back(DocumentWithChunks{std::move(doc).value(), std::move(chunks).value()});
    }
    return out;
  }

  // The change log, in order, after `after_seq`.
  virtual Result<std::vector<Change>> ChangesSince(int64_t after_seq, size_t limit) = 0;
  virtual Result<int64_t> LastChangeSeq() = 0;
  // All live document ids, ascending (for rebuilding the index).
  virtual Result<std::vector<int64_t>> AllDocumentIds() = 0;

  // Consistency check: foreign keys, chunk ranges inside content, hashes.
  virtual Status Verify() = 0;

  // The embedding cache (docs/models.md): vectors keyed by (model id, hash
  // of the embedded text), so re-indexing unchanged text embeds nothing.
  // Lookup returns one entry per hash, in order; empty when not cached.
  virtual Result<std::vector<std::vector<float>>> GetEmbeddings(const std::string& model,
                                                                const std::vector<std::string>& hashes) = 0;
  // Inserts or replaces (hashes[i] -> vectors[i]) in one transaction.
  virtual Status PutEmbeddings(const std::string& model, const std::vector<std::string>& hashes,
                               const std::vector<std::vector<float>>& vectors) = 0;
  // Drops every cached vector of a model (after switching away from it).
  virtual Status DeleteEmbeddings(const std::string& model) = 0;
  virtual Result<int64_t> CountEmbeddings(const std::string& model) = 0;
};

// Opens (creating if needed) the SQLite store at `path`, in WAL mode,
// applying pending schema migrations.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

// The documents a derived index must revisit to catch up from `after_seq`:
// every live document when `from_scratch` (read from the documents table, so a
// rebuild costs the corpus and not its history), else each document named in
// the change log after `after_seq` once, in log order, reading no further
// than `up_to` (0: to the end).
Result<std::vector<int64_t>> DocumentsToRevisit(Store& store, int64_t after_seq, bool from_scratch,
                                                int64_t up_to = 0);

}  // namespace savoir
