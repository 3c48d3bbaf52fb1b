#include "server/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <vector>

#include "connectors/sources.h"

namespace savoir {

SyncScheduler::SyncScheduler(Engine& engine, const Config& config, int tick_ms)
    : engine_(engine), config_(config), tick_ms_(tick_ms) {}

SyncScheduler::~SyncScheduler() { Stop(); }

void SyncScheduler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void SyncScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status SyncScheduler::RequestSync(int64_t source_id) {
  SAVOIR_ASSIGN_OR_RETURN(SourceRecord source, engine_.store().GetSource(source_id));
  if (!IsConnectorKind(source.kind))
    return Status(ErrorKind::kInvalidArgument, "source " + std::to_string(source_id) + " (" + source.kind +
                                               ") is indexed by `savoir index`, not synced by the server");
  {
    std::lock_guard<std::mutex> lock(mu_);
    bool queued = false;
    for (int64_t id : asked_) queued = queued || id == source_id;
    if (!queued && running_ != source_id) asked_.push_back(source_id);
  }
  cv_.notify_all();
  return Status::Ok();
}

Status SyncScheduler::RemoveSource(int64_t source_id, const std::function<Status()>& remove, int wait_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  asked_.erase(std::remove(asked_.begin(), asked_.end(), source_id), asked_.end());
  if (running_ == source_id) {
    cancel_ = source_id;
    bool stopped = idle_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return running_ != source_id; });
    cancel_ = 0;
    if (!stopped)
      return Status(ErrorKind::kUnavailable, "source " + std::to_string(source_id) +
                                                 " is still syncing; nothing was removed, try again in a moment");
  }
  // Holding the lock: the scheduler cannot mark the source running meanwhile,
  // and a sync that starts afterwards finds it gone.
  return remove();
}

bool SyncScheduler::IsSyncing(int64_t source_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_ == source_id;
}

bool SyncScheduler::IsQueued(int64_t source_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (int64_t id : asked_)
    if (id == source_id) return true;
  return false;
}

int64_t SyncScheduler::NextSource() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!asked_.empty()) {
      int64_t id = asked_.front();
      asked_.pop_front();
      running_ = id;  // never shown as neither queued nor syncing
      return id;
    }
  }
  auto sources = engine_.store().ListSources();
  if (!sources.ok()) {
    std::fprintf(stderr, "savoir: scheduler: cannot list sources: %s\n", sources.status().ToString().c_str());
    return 0;
  }
  const int64_t now = std::time(nullptr);
  int64_t best = 0, best_due = 0;
  for (const auto& s : *sources) {
    if (!IsConnectorKind(s.kind) || SyncIntervalSeconds(s, config_) <= 0) continue;
    auto st = engine_.store().GetSyncStatus(s.id);
    if (!st.ok()) continue;
    // Never synced: due now. Otherwise the run recorded when it is due.
    int64_t due = st->last_attempt == 0 ? 0 : st->next_run;
    if (due > now) continue;
    if (best == 0 || due < best_due) best = s.id, best_due = due;
  }
  return best;
}

void SyncScheduler::SyncOne(int64_t source_id) {
  auto source = engine_.store().GetSource(source_id);
  if (!source.ok()) return;  // removed meanwhile
  auto t0 = std::chrono::steady_clock::now();
  ConnectorSyncSummary sum;
  // On SIGTERM the sync stops at its next batch (committed batches stay).
  // Searches see a long sync's documents as it goes.
  Status st = SyncSource(engine_.store(), config_, *source, engine_.ingest_options(), &sum, [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_ || (cancel_ != 0 && cancel_ == running_);
  }, [this] { return engine_.CatchUp(); });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "savoir: synced source %lld %s: seen %zu, added %zu, updated %zu, removed %zu, errors %zu in %.2f s%s%s\n",
               static_cast<long long>(source_id), source->name.c_str(), sum.seen, sum.added, sum.updated, sum.removed,
               sum.errors.size(), secs, st.ok() ? "" : ": ", st.ok() ? "" : st.message().c_str());
}

void SyncScheduler::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    bool synced = false;
    std::vector<int64_t> done;  // a source whose status cannot be recorded must not spin
    for (;;) {
      lock.unlock();
      int64_t id = NextSource();
      lock.lock();
      if (id == 0 || stop_ || std::find(done.begin(), done.end(), id) != done.end()) break;
      done.push_back(id);
      running_ = id;
      lock.unlock();
      SyncOne(id);
      lock.lock();
      running_ = 0;
      idle_cv_.notify_all();
      synced = true;
    }
    running_ = 0;  // NextSource marks an asked source running before the checks above
    idle_cv_.notify_all();
    if (synced && !stop_) {
      lock.unlock();
      Status st = engine_.CatchUp();
      if (!st.ok()) std::fprintf(stderr, "savoir: index update after sync failed: %s\n", st.ToString().c_str());
      lock.lock();
    }
    cv_.wait_for(lock, std::chrono::milliseconds(tick_ms_), [this] { return stop_ || !asked_.empty(); });
  }
}

}  // namespace savoir
