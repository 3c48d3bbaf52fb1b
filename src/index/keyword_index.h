// The keyword index: a list of immutable segments plus, per segment, a bitmap
// of deleted local docs. It is derived from the store (rebuildable at any
// time) and remembers the last store change it applied. Readers take a
// Snapshot (shared, immutable); writers (Commit, merges) publish a new one.
//
// On disk, in its folder: seg_NNNNNN (segments), seg_NNNNNN.del.G (deletion
// bitmaps, portable Roaring), MANIFEST (JSON, replaced atomically). Files not
// named by the manifest are garbage from an interrupted write and are removed
// on open.
#pragma once

#include <roaring/roaring.hh>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "index/segment.h"

namespace savoir {

struct SegmentView {
  std::shared_ptr<Segment> segment;
  std::shared_ptr<const Roaring> deleted;  // never null
  std::string name, del_name;
  uint32_t live_docs = 0;
  uint64_t live_len = 0;
};

struct Snapshot {
  std::vector<SegmentView> segments;
  uint64_t live_docs = 0;
  uint64_t live_len = 0;
  int64_t applied_seq = 0;
  double avg_len() const { return live_docs ? double(live_len) / live_docs : 1.0; }
  // Document frequency of a term over all segments (deleted docs included,
  // as Lucene does: exact df would need a rewrite on every delete).
  uint64_t DocFreq(std::string_view term) const;
  // Live docs carrying a facet (e.g. "lang:fr").
  uint64_t FacetCount(const std::string& facet) const;
};

struct IndexStats {
  size_t segments = 0;
  uint64_t live_chunks = 0, deleted_chunks = 0, bytes = 0;
};

class KeywordIndex {
 public:
  static Result<std::unique_ptr<KeywordIndex>> Open(const std::string& dir);
  ~KeywordIndex();

  std::shared_ptr<const Snapshot> snapshot() const;
  int64_t applied_seq() const { return snapshot()->applied_seq; }

  // Atomically: deletes every chunk of `removed_docs`, adds `chunks` as a new
  // segment, and records `applied_seq`. Readers see all of it or none.
  Status Commit(const std::vector<IndexedChunk>& chunks, const std::vector<int64_t>& removed_docs,
                int64_t applied_seq);
  // The same with the new segment already built as slices in doc order
  // (SegmentWriter::WriteParts): how CatchUpIndex commits, analyzing
  // straight into one writer per thread.
  Status CommitParts(const std::vector<SegmentWriter>& parts, const std::vector<int64_t>& removed_docs,
                     int64_t applied_seq);

  // Tiered merging: when there are more than `max_segments` segments, the
  // smallest ones are merged into one. Runs concurrently with searches and
  // commits (deletions that arrive during a merge are carried over).
  Status MaybeMerge(size_t max_segments = 8);
  Status MergeAll();
  // Starts a background thread that calls MaybeMerge after commits.
  void StartBackgroundMerges();
  void StopBackgroundMerges();

  IndexStats Stats() const;

  // Runs `body` as the only writer of this index folder, across threads and
  // processes (flock on LOCK), after reloading what another process may have
  // committed. Reentrant. Commit and merges take it themselves; callers that
  // read applied_seq() and then commit (catching up with the store) wrap the
  // whole sequence in it.
  Status WithWriteLock(const std::function<Status()>& body);

  // Reloads the manifest if another process changed it (cheap when not).
  Status Refresh();

 private:
  explicit KeywordIndex(std::string dir) : dir_(std::move(dir)) {}
  Status Load();
  Status WriteManifest(const Snapshot& snap);
  Status CommitLocked(const std::vector<SegmentWriter>& parts, const std::vector<int64_t>& removed_docs,
                      int64_t applied_seq);
  Status InstallMerged(SegmentView merged, const std::vector<std::string>& names,
                       const std::vector<const SegmentView*>& sources,
                       const std::vector<std::vector<uint32_t>>& remap);
  Status Merge(std::vector<std::string> names);
  Status MaybeMergeLocked(size_t max_segments);
  Status MergeAllLocked();
  std::string NextSegmentName();
  void RemoveGarbage(const Snapshot& snap);

  const std::string dir_;
  mutable std::mutex snap_mu_;
  std::shared_ptr<const Snapshot> snap_;
  std::recursive_mutex write_mu_;  // serializes Commit and merge installs
  int lock_depth_ = 0;             // WithWriteLock nesting, under write_mu_
  int lock_fd_ = -1;
  uint64_t generation_ = 0;        // of the manifest we loaded or wrote
  std::mutex merge_mu_;  // one merge at a time
  uint64_t next_segment_ = 1;
  uint64_t del_generation_ = 1;

  std::thread merger_;
  std::mutex merger_mu_;
  std::condition_variable merger_cv_;
  bool merger_stop_ = false, merger_pending_ = false;
};

}  // namespace savoir
