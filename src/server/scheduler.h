// Connector syncs inside `savoir serve`: one thread wakes every few seconds
// (or at once when "sync now" is asked), syncs the connector sources whose
// next run is due one at a time, then brings the index up to date. A source
// that fails records its errors and gets its next run like any other; the
// others go on. Files sources are left to `savoir index`.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/config.h"
#include "retrieve/engine.h"

namespace savoir {

class SyncScheduler {
 public:
  SyncScheduler(Engine& engine, const Config& config, int tick_ms = 2000);
  ~SyncScheduler();

  void Start();
  // Wakes the thread and joins it; a sync in progress stops at its next
  // batch (what it committed stays, with its checkpoint) and is due again at
  // the next start.
  void Stop();

  // "Sync now": the source runs next, before any due one. kNotFound for an
  // unknown id, kInvalidArgument for a files source. Asking again while it is
  // queued or syncing does not queue it twice.
  Status RequestSync(int64_t source_id);

  // Removing a source: drops it from the queue, stops its sync in progress
  // at the next batch (waiting up to `wait_ms` for that), then runs `remove`
  // while no sync of the source can start. kUnavailable when the sync did
  // not stop in time (nothing removed).
  Status RemoveSource(int64_t source_id, const std::function<Status()>& remove, int wait_ms = 60000);

  bool IsSyncing(int64_t source_id) const;
  bool IsQueued(int64_t source_id) const;

 private:
  void Loop();
  // Picks the next source to sync (asked first, then due), 0 if none.
  int64_t NextSource();
  void SyncOne(int64_t source_id);

  Engine& engine_;
  Config config_;
  int tick_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;  // running_ went back to 0
  int64_t cancel_ = 0;               // the source whose sync should stop
  bool stop_ = false;
  std::deque<int64_t> asked_;
  int64_t running_ = 0;
  std::thread thread_;
};

}  // namespace savoir
