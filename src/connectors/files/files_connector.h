// The files connector: indexes folders (or single files) of documents.
// Each root path is one source. Re-running it touches only files whose
// bytes or access list changed and removes documents whose file is gone.
// Parsing happens in ParseWorker child processes; a file that fails costs
// that file only and is reported with its reason.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ingest/ingestor.h"
#include "ingest/parse_worker.h"
#include "store/store.h"

namespace savoir {

struct FileFailure {
  std::string path;
  std::string reason;
};

struct SyncSummary {
  size_t added = 0, updated = 0, unchanged = 0, removed = 0, skipped = 0;
  std::vector<FileFailure> failed;
};

struct FilesSyncOptions {
  IngestOptions ingest;
  ParseLimits limits;
  int workers = 1;
  // (files done, files total, current path)
  std::function<void(size_t, size_t, const std::string&)> progress;
};

// Syncs one root (folder or file). Fails as a whole only when the root itself
// cannot be read or the store refuses writes.
Status SyncFiles(Store& store, const std::string& root, const FilesSyncOptions& options,
                 SyncSummary* summary);

}  // namespace savoir
