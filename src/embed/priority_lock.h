// A lock with two priorities, for one llama.cpp context shared by
// interactive work (a search's query embedding) and bulk work (the embedding
// pipeline's passage batches). Holders take it for one forward pass at a
// time; when it is released, a waiting high-priority caller always goes
// before any waiting low-priority one. So a query waits for at most the one
// pass in progress, never for the passages queued behind it. Among callers
// of the same priority the order is unspecified.
//
// Low-priority callers can starve while high-priority ones keep coming:
// acceptable here (queries are short and interactive, passages catch up).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace savoir {

class PriorityLock {
 public:
  enum class Priority { kHigh, kLow };

  void lock(Priority p) {
    std::unique_lock l(mu_);
    if (p == Priority::kHigh) {
      ++high_waiting_;
      cv_.wait(l, [&] { return !held_; });
      --high_waiting_;
    } else {
      ++low_waiting_;
      cv_.wait(l, [&] { return !held_ && high_waiting_ == 0; });
      --low_waiting_;
    }
    held_ = true;
  }

  void unlock() {
    {
      std::lock_guard l(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }

  // Callers waiting now (for tests and status).
  size_t waiting(Priority p) const {
    std::lock_guard l(mu_);
    return p == Priority::kHigh ? high_waiting_ : low_waiting_;
  }

  class Guard {
   public:
    Guard(PriorityLock& lock, Priority p) : lock_(lock) { lock_.lock(p); }
    ~Guard() { lock_.unlock(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    PriorityLock& lock_;
  };

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  size_t high_waiting_ = 0, low_waiting_ = 0;
};

}  // namespace savoir
