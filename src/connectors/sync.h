// Runs a Connector against the store: each batch (upserts, deletions, access
// changes) and the checkpoint after it commit in one transaction; unchanged
// documents (same content hash and access list) are not rewritten; the run's
// outcome is recorded as the source's SyncStatus.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "ingest/ingestor.h"
#include "store/store.h"

namespace savoir {

struct ConnectorSyncSummary;

struct ConnectorSyncOptions {
  IngestOptions ingest;
  // Asked between batches: once it returns true the next batch is refused,
  // the connector stops, and the run is recorded as interrupted and due again
  // at once (its committed batches and checkpoint stay).
  std::function<bool()> cancelled;
  int64_t interval_seconds = 3600;  // next_run = end of this run + interval (0: manual only, next_run 0)
  // Called after each committed batch (e.g. to bring the index up to date
  // as a long sync goes, so memory and the final catch-up stay bounded).
  std::function<Status(const ConnectorSyncSummary&)> after_batch;
};

struct ConnectorSyncSummary {
  size_t seen = 0, added = 0, updated = 0, unchanged = 0, removed = 0;
  std::vector<std::string> errors;  // per-item failures and the run's own
};

// Never fails silently: a connector error is returned and recorded in the
// source's status (last_error), with whatever batches committed before it
// kept.
Status SyncConnector(Store& store, int64_t source_id, Connector& connector,
                     const ConnectorSyncOptions& options, ConnectorSyncSummary* summary);

// The hash the framework compares to skip unchanged documents: covers
// everything that ends up in the stored document except the access list.
std::string ConnectorDocumentHash(const ConnectorDocument& doc);

}  // namespace savoir
