// Brings the keyword index up to date with the store by replaying the
// store's change log from the index's last applied change. Because the index
// is derived, `Rebuild` can throw it away and build it again from the store.
#pragma once

#include <functional>
#include <string>

#include "common/status.h"
#include "index/keyword_index.h"
#include "index/segment.h"
#include "store/store.h"

namespace savoir {

// Where an index build spent its wall time, in seconds (for benchmarks).
struct IndexBuildStats {
  double read_s = 0;     // documents and chunks read from the store
  double analyze_s = 0;  // analysis into the segment writers, on every core
  double write_s = 0;    // segments written and committed
};

struct IndexBuildOptions {
  size_t chunks_per_segment = 50000;  // bounds memory while building
  IndexBuildStats* stats = nullptr;   // when set, filled in
};

// Called with (documents done, documents to do).
using ProgressFn = std::function<void(size_t, size_t)>;

Status CatchUpIndex(Store& store, KeywordIndex& index, const IndexBuildOptions& options = {},
                    const ProgressFn& progress = nullptr);

// Analyzes a stored chunk into `writer` as the index holds it: the title
// (twice) and heading path are indexed with every chunk of the document,
// adjacent word pairs and accent-less stem variants as extra terms, the
// document's readers, source and language as facets.
void AddChunkTo(SegmentWriter& writer, const DocumentRecord& doc, const ChunkRecord& chunk);

}  // namespace savoir
