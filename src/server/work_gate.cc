#include "server/work_gate.h"

namespace savoir {

WorkGate::WorkGate(int slots) : slots_(slots < 1 ? 1 : slots) {}

void WorkGate::Enter() {
  std::unique_lock<std::mutex> lock(mu_);
  if (busy_ < slots_ && queue_.empty()) {
    ++busy_;
    return;
  }
  // One condition per waiter: a freed slot wakes exactly the next caller,
  // not every waiting thread.
  Waiter me;
  queue_.push_back(&me);
  me.cv.wait(lock, [&] { return me.granted; });
}

void WorkGate::Leave() {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.empty()) {
    --busy_;
    return;
  }
  // The slot passes straight to the oldest waiter (busy_ is unchanged), so
  // a newcomer cannot take it first.
  Waiter* next = queue_.front();
  queue_.pop_front();
  next->granted = true;
  next->cv.notify_one();
}

size_t WorkGate::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace savoir
