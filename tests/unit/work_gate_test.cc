#include "server/work_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace savoir {
namespace {

// Waits (without a time limit) until `n` callers are queued in the gate.
void WaitForQueue(const WorkGate& gate, size_t n) {
  while (gate.waiting() < n) std::this_thread::yield();
}

TEST(WorkGateTest, ServesWaitersInArrivalOrder) {
  WorkGate gate(1);
  gate.Enter();  // holds the only slot
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      WorkGate::Pass pass(&gate);
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
    WaitForQueue(gate, static_cast<size_t>(i) + 1);  // thread i is queued before i + 1 starts
  }
  gate.Leave();
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(WorkGateTest, NewcomerDoesNotOvertakeAQueuedCaller) {
  WorkGate gate(1);
  gate.Enter();
  std::atomic<int> first{-1};
  std::thread queued([&] {
    WorkGate::Pass pass(&gate);
    int expected = -1;
    first.compare_exchange_strong(expected, 0);
  });
  WaitForQueue(gate, 1);
  // The slot is handed to the queued thread on Leave(); a caller arriving
  // right after must queue behind it.
  gate.Leave();
  {
    WorkGate::Pass pass(&gate);
    int expected = -1;
    first.compare_exchange_strong(expected, 1);
  }
  queued.join();
  EXPECT_EQ(first.load(), 0);
}

TEST(WorkGateTest, NeverMoreThanSlotsInside) {
  WorkGate gate(3);
  EXPECT_EQ(gate.slots(), 3);
  std::atomic<int> inside{0}, most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      for (int r = 0; r < 200; ++r) {
        WorkGate::Pass pass(&gate);
        int now = ++inside;
        int m = most.load();
        while (now > m && !most.compare_exchange_weak(m, now)) {}
        std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(WorkGateTest, ZeroSlotsMeansOne) {
  WorkGate gate(0);
  EXPECT_EQ(gate.slots(), 1);
  WorkGate::Pass pass(&gate);
  WorkGate::Pass none(nullptr);  // no gate: no wait
}

}  // namespace
}  // namespace savoir
