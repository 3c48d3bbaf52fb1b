// The embedding pipeline: keeps a vector index in step with the store.
//
// Like ingest/index_builder does for the keyword index, it replays the
// store's change log from its own position: changed documents are read, their
// chunks turned into texts (title, heading path, chunk text), looked up in the
// embedding cache by (model id, BLAKE2b of the text), and only the misses are
// embedded, in batches of Embedder::max_batch. A reader thread feeds the
// embedding thread through a bounded queue, so memory stays flat whatever the
// corpus size. Vectors are committed to the index first, then the position
// (with the document -> chunk ids map that tells which vectors a changed
// document replaces); a crash in between is replayed from the old position and
// embeds nothing again (the cache kept the vectors).
//
// On disk, `<data>/vectors/`: one folder per model (`<sanitized model id>/`:
// the VectorIndex files, STATE, embedder.json, PENDING during a commit) and
// CURRENT, naming the folder that serves. A new model id builds its own folder
// in the background while the current one keeps serving; once it has caught
// up, CURRENT is replaced (rename) and the serving pointer swapped under a
// lock, then the old folder and its cached vectors are deleted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "embed/embedder.h"
#include "index/vector_index.h"
#include "store/store.h"

namespace savoir {

using VectorIndexOpener =
    std::function<Result<std::unique_ptr<VectorIndex>>(const std::string& dir, const VectorIndexOptions& options)>;
// Builds the embedder of a model folder from the spec saved with it (to keep
// serving the old model while a new one builds).
using EmbedderFromSpec = std::function<Result<std::unique_ptr<Embedder>>(const std::string& spec_json)>;
// (chunks done, chunks to do) of the catch-up in progress.
using EmbedProgressFn = std::function<void(size_t, size_t)>;

struct EmbedPipelineOptions {
  size_t queue_batches = 4;        // bounded queue depth, in embedder batches
  size_t commit_every = 20000;     // chunks between intermediate commits
  VectorIndexOptions index;        // dimensions come from the embedder
  VectorIndexOpener opener;        // empty: VectorIndex::Open
};

// Counters since the pipeline was opened (tests and `savoir index` output).
struct EmbedCounters {
  size_t chunks = 0;        // chunk vectors written to the index
  size_t cache_hits = 0;    // of those, found in the embedding cache
  size_t embedded = 0;      // texts sent to the embedder
  size_t embed_calls = 0;   // Embed() calls
  size_t removed = 0;       // vectors removed (changed or deleted documents)
};

// "llama:model.gguf:ab12" -> "llama_model.gguf_ab12" plus a short hash of
// the full id (two ids that sanitize alike never share a folder).
std::string SanitizeModelId(const std::string& model_id);
// The text a chunk is embedded as.
std::string EmbeddingText(const DocumentRecord& doc, std::string_view chunk_text, const std::string& heading_path);
// 16-byte BLAKE2b of the text (the embedding cache key).
std::string TextHash(std::string_view text);

// One model's vectors: its embedder, its index, and the change-log position
// they reflect.
class VectorSpace {
 public:
  static Result<std::unique_ptr<VectorSpace>> Open(const std::string& dir, std::shared_ptr<Embedder> embedder,
                                                   const EmbedPipelineOptions& options);
  ~VectorSpace();

  // Applies the store's changes since applied_seq(). `stop`, when set,
  // ends it early at a commit point (progress kept).
  Status CatchUp(Store& store, const EmbedProgressFn& progress = nullptr,
                 const std::atomic<bool>* stop = nullptr);

  // Waits for a vector index compaction building in the background and
  // adopts it (a process about to exit; a server adopts it at its next
  // catch-up instead).
  Status FinishCompaction();

  // Embeds the query (serialized with passage embedding: embedders need not
  // be thread-safe) and searches the index.
  Result<std::vector<VectorHit>> Search(const std::string& query, size_t k, const Roaring* allowed) const;

  const std::string& model_id() const { return model_id_; }
  const std::string& dir() const { return dir_; }
  int64_t applied_seq() const { return applied_seq_.load(); }
  size_t size() const { return index_->size(); }
  const VectorIndex& index() const { return *index_; }
  EmbedCounters counters() const;
  // Whether another process committed since this space loaded its state.
  bool Stale() const;

 private:
  VectorSpace() = default;
  Status LoadState();
  Status WriteState(int64_t seq) const;
  Status Recover();
  Status CommitBatch(const std::vector<int64_t>& touched_ids, int64_t seq);

  std::string dir_, model_id_;
  std::shared_ptr<Embedder> embedder_;
  std::unique_ptr<VectorIndex> index_;
  EmbedPipelineOptions options_;
  std::atomic<int64_t> applied_seq_{0};
  mutable uint64_t generation_ = 0;  // of the STATE file loaded or written
  // Which chunk vectors each document has in the index, and the reverse.
  std::unordered_map<int64_t, std::vector<int64_t>> doc_chunks_;
  std::unordered_map<int64_t, int64_t> chunk_owner_;
  mutable std::mutex counters_mu_;
  EmbedCounters counters_;
};

struct VectorStatus {
  bool enabled = false;            // an embedder is configured
  std::string model;               // serving model id ("" while the first build runs)
  size_t vectors = 0;              // in the serving index
  int64_t pending = 0;             // changes the serving index has not applied yet
  std::string building;            // model id being built in the background, if any
  size_t building_vectors = 0;
  int64_t building_pending = 0;
};

// The vector spaces of a data folder: the one serving and, while the model
// changes, the one building.
class EmbeddingPipeline {
 public:
  // `vectors_dir` is <data>/vectors. `embedder` is the configured one and
  // `spec_json` what rebuilds it (saved in its folder).
  static Result<std::unique_ptr<EmbeddingPipeline>> Open(const std::string& vectors_dir,
                                                         std::shared_ptr<Embedder> embedder,
                                                         const std::string& spec_json,
                                                         const EmbedderFromSpec& from_spec,
                                                         const EmbedPipelineOptions& options = {});
  ~EmbeddingPipeline();

  // Catches the serving space up, then the building one; switches to the
  // building one once it has caught up. One writer at a time across
  // processes (flock on <vectors>/LOCK); picks up what another process
  // committed.
  Status CatchUp(Store& store, const EmbedProgressFn& progress = nullptr, const std::atomic<bool>* stop = nullptr);
  // Waits for the compactions the spaces' indexes build in the background
  // and adopts them: what a one-shot command does before it exits (an
  // abandoned compaction is lost work, started again by the next commit).
  Status FinishCompactions();

  // The space that serves queries (nullptr until a first build completes).
  std::shared_ptr<const VectorSpace> serving() const;
  VectorStatus GetStatus(Store& store) const;
  std::shared_ptr<VectorSpace> building() const;

 private:
  EmbeddingPipeline() = default;
  Status Load();          // (re)reads CURRENT and opens the spaces
  Status Switch(Store& store);
  Status AsWriter(const std::function<Status()>& fn);
  Status CatchUpLocked(Store& store, const EmbedProgressFn& progress, const std::atomic<bool>* stop);

  std::string dir_, spec_json_;
  std::shared_ptr<Embedder> embedder_;
  EmbedderFromSpec from_spec_;
  EmbedPipelineOptions options_;
  mutable std::mutex mu_;  // guards the two pointers
  std::shared_ptr<VectorSpace> serving_, building_;
  std::string loaded_current_;
  std::recursive_mutex write_mu_;
  int lock_fd_ = -1;
};

}  // namespace savoir
