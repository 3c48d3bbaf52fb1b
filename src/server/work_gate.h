// A first-come, first-served limit on how many requests compute at once.
//
// httplib serves each keep-alive connection on one pool thread, so with 100
// connections 100 threads compete for 2 cores: the kernel shares the CPU
// among them in time slices, a request that needs several slices waits for
// every other connection between them, and the latency of the costlier
// requests grows with the number of connections (wrk, 100 connections,
// SciFact: p50 25 ms, p99 205 ms). Behind this gate only `slots` requests
// compute (about one per core) and the others wait in arrival order, so a
// request's latency is its wait in the queue plus its own work, and the
// tail stays close to the mean. Connections still hold a thread while
// idle or waiting; threads waiting here use no CPU.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

namespace savoir {

class WorkGate {
 public:
  // `slots` < 1 means one.
  explicit WorkGate(int slots);
  WorkGate(const WorkGate&) = delete;
  WorkGate& operator=(const WorkGate&) = delete;

  // Waits until a slot is free and every earlier caller got one.
  void Enter();
  // Hands the slot to the longest waiting caller, if any.
  void Leave();

  int slots() const { return slots_; }
  // Callers waiting in Enter() now (for tests and metrics).
  size_t waiting() const;

  // Enter() in the constructor, Leave() in the destructor.
  class Pass {
   public:
    explicit Pass(WorkGate* gate) : gate_(gate) {
      if (gate_) gate_->Enter();
    }
    ~Pass() {
      if (gate_) gate_->Leave();
    }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

   private:
    WorkGate* gate_;
  };

 private:
  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
  };
  const int slots_;
  mutable std::mutex mu_;
  int busy_ = 0;
  std::deque<Waiter*> queue_;  // oldest first; each waits on its own condition
};

}  // namespace savoir
