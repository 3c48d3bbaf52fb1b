// The interface every incremental connector (Slack, later Confluence, web...)
// implements. A connector reads its source from a checkpoint and hands over
// batches; the sync framework (sync.h) writes each batch and the checkpoint
// that follows it in one store transaction, so a crash or kill resumes from
// the last committed batch without losing or duplicating documents.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "ingest/parsed_document.h"
#include "store/store.h"

namespace savoir {

// One document as the source sees it. Either `text` (already plain text),
// `bytes` + `file_name` (parsed by the format parsers), or `parsed` (already
// structured by the connector; `text` then holds parsed->text for the hash)
// is set.
struct ConnectorDocument {
  std::string external_id;  // stable across runs: the upsert key
  std::string title, url, author;
  std::string text;
  std::string bytes, file_name;
  std::optional<ParsedDocument> parsed;
  int64_t created_at = 0, updated_at = 0;  // unix seconds
  AccessList acl;  // never empty: the store refuses documents nobody may read
  std::string metadata_json = "{}";
};

// Replaces the access list of every stored document whose external id
// starts with `prefix` (e.g. a private channel's membership changed: its old
// messages are not fetched again but their readers change).
struct AccessChange {
  std::string prefix;
  AccessList acl;
};

struct ConnectorBatch {
  std::vector<ConnectorDocument> upserts;
  std::vector<std::string> deletions;  // external ids; unknown ids are ignored
  std::vector<AccessChange> access_changes;
  std::string checkpoint;  // the resume point once this batch is stored
  std::vector<std::string> errors;  // per-item failures that did not stop the run
  // Per-item resume state (key -> value, e.g. a web page's ETag and links),
  // stored with the batch and stamped with `item_run` (Store::PutItemStates),
  // for state that grows with the source and would bloat the checkpoint.
  std::vector<std::pair<std::string, std::string>> item_states;
  int64_t item_run = 0;
  // After this batch: drop the items of runs before `item_run` (the run is
  // complete; what it did not touch is gone).
  bool prune_items = false;
};

// What a connector may ask the framework while it runs.
struct SyncContext {
  int64_t source_id = 0;
  // external id -> document id of everything stored for the source when the
  // run began (to notice deletions).
  std::unordered_map<std::string, int64_t> stored;
  // Stores `batch` and its checkpoint atomically; an error means the store
  // refused and the connector must stop.
  std::function<Status(ConnectorBatch&)> emit;
  // The item state a batch stored under `key` (any earlier run), nullopt
  // when none. Unset when the store keeps no item state.
  std::function<Result<std::optional<std::string>>(const std::string& key)> item_state;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Reads the source from `checkpoint` ("" on the first run), calling
  // ctx.emit for each batch. Returns an error when the source as a whole
  // failed (unreachable, credential refused); batches already emitted stay.
  virtual Status Run(const std::string& checkpoint, SyncContext& ctx) = 0;
};

}  // namespace savoir
