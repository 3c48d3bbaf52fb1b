// The vector index: chunk embeddings of one model (one vector space), with
// the permission filter applied inside the search. Small allowed sets are
// scanned exactly; larger ones go through the graph with the filter passed
// into the traversal (never "search, then drop"). Vectors are stored
// compactly (f16 or int8), persisted in `dir` and memory-mapped on open, so
// a restart reloads without rebuilding. The library choice and the switch
// point between exact scan and graph are measured: bench/vector_bench and
// docs/vectors.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <roaring/roaring.hh>

#include "common/status.h"

namespace savoir {

struct VectorIndexOptions {
  int dimensions = 0;                 // required when creating; checked on open
  std::string quantization = "f16";   // "f32", "f16" or "i8"
  int connectivity = 16;              // graph degree (HNSW M)
  int expansion_add = 128;            // ef_construction
  int expansion_search = 64;          // ef at query time (raised to k when smaller)
  // An allowed set smaller than this share of the index is scanned exactly
  // instead of searched through the graph (measured; see docs/vectors.md).
  double exact_scan_below = 0.02;
  // ... and also while allowed^2 < exact_scan_cost * size: a filtered graph
  // search costs about (its unfiltered cost) / selectivity, an exact scan
  // (allowed vectors) x (one dot product); this is their measured ratio.
  // 0 disables the rule (then only exact_scan_below decides).
  double exact_scan_cost = 500;
  // Once removed or replaced slots exceed this share of all slots, Commit
  // starts a compaction: the live vectors are copied and their graph rebuilt
  // on a thread of its own while searches, adds, removes and commits go on;
  // the next Commit after it is built adopts it (a new epoch of files).
  // 0 disables compaction.
  double compact_dead_share = 0.25;
  // Commit rewrites the graph file once the slots it does not cover exceed
  // this share of all slots (a process opening the files scans those exactly;
  // the writer's graph in memory covers every slot).
  double graph_lag_share = 0.05;
  // Threads building a compaction's graph. 2 threads cost 1.45x the CPU of
  // one here (bench/vector_bench --compactions) and were slower in wall time
  // on the shared 2-core machine, so 1 unless cores are to spare.
  int compact_threads = 1;
};

// What the index holds, on disk and in memory (tests, metrics, benchmarks).
struct VectorIndexStats {
  size_t live = 0;          // searchable vectors
  size_t slots = 0;         // stored vectors, removed ones included
  size_t dead = 0;          // removed or replaced slots awaiting compaction
  size_t graph_slots = 0;   // slots linked into the graph
  uint64_t epoch = 0;       // compactions so far (files are per epoch)
  uint64_t generation = 0;  // commits so far
  uint64_t disk_bytes = 0;  // files named by the manifest
  uint64_t memory_bytes = 0;  // heap: id maps, uncommitted vectors, writable graph (mapped files excluded)
  size_t compactions = 0;   // done by this process
  bool compacting = false;  // a compaction is building in the background, or built and not yet adopted
  bool compaction_built = false;  // ... built: the next Commit adopts it without waiting
};

struct VectorHit {
  int64_t id = 0;       // the chunk id
  float score = 0;      // cosine similarity (vectors are unit length), higher is better
};

class VectorIndex {
 public:
  // Opens the index in `dir`, creating it when absent. kCorrupt when the
  // files fail validation; kInvalidArgument when the dimensions differ.
  static Result<std::unique_ptr<VectorIndex>> Open(const std::string& dir, const VectorIndexOptions& options);
  virtual ~VectorIndex() = default;

  // Adds or replaces vectors (n = ids.size(), vectors holds n * dimensions
  // floats, unit length). Ids must be < 2^32 (chunk ids).
  virtual Status Add(const std::vector<int64_t>& ids, const std::vector<float>& vectors) = 0;
  virtual Status Remove(const std::vector<int64_t>& ids) = 0;
  // Makes everything added or removed so far durable (atomic on crash: the
  // previous committed state or the new one).
  virtual Status Commit() = 0;
  // Waits for a compaction building in the background, then adopts it as
  // the next Commit would (tests, benchmarks, a writer about to stop). Ok
  // when none is running. Called by the writer, like Commit.
  virtual Status FinishCompaction() { return Status::Ok(); }

  // The k most similar allowed vectors, best first. `allowed` == nullptr
  // means every id is allowed. Safe to call from many threads at once, and
  // concurrently with one writer (Add/Remove/Commit are serialized by the
  // caller).
  virtual Result<std::vector<VectorHit>> Search(const float* query, size_t k,
                                                const Roaring* allowed) const = 0;

  // Search with an explicit graph beam width (benchmarks and tuning); the
  // switch to an exact scan of small allowed sets still applies.
  virtual Result<std::vector<VectorHit>> SearchWithExpansion(const float* query, size_t k, const Roaring* allowed,
                                                             size_t expansion) const {
    (void)expansion;
    return Search(query, k, allowed);
  }
  // An exact scan of the allowed vectors, whatever their share (benchmarks, tests).
  virtual Result<std::vector<VectorHit>> SearchExact(const float* query, size_t k, const Roaring* allowed) const {
    return Search(query, k, allowed);
  }

  virtual VectorIndexStats Stats() const { return {}; }

  virtual size_t size() const = 0;
  virtual int dimensions() const = 0;
  virtual bool Contains(int64_t id) const = 0;
};

}  // namespace savoir
