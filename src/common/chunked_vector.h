// An append-only array in fixed blocks: growing never copies what is
// stored nor touches memory twice (a std::vector doubling copies every
// element and faults in a new buffer each time). For the index writer's
// per-occurrence records, which run to millions per batch.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace savoir {

template <typename T, size_t kShift = 15>
class ChunkedVector {
 public:
  static constexpr size_t kBlock = size_t{1} << kShift;
  void push_back(const T& v) {
    if ((size_ & (kBlock - 1)) == 0 && (size_ >> kShift) == blocks_.size())
      blocks_.emplace_back(new T[kBlock]);  // default-initialized: no zeroing
    blocks_[size_ >> kShift][size_ & (kBlock - 1)] = v;
    ++size_;
  }
  T& operator[](size_t i) { return blocks_[i >> kShift][i & (kBlock - 1)]; }
  const T& operator[](size_t i) const { return blocks_[i >> kShift][i & (kBlock - 1)]; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Calls fn(element) for each element in order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t b = 0; b < blocks_.size(); ++b) {
      const size_t n = b + 1 < blocks_.size() ? kBlock : size_ - b * kBlock;
      const T* p = blocks_[b].get();
      for (size_t i = 0; i < n; ++i) fn(p[i]);
    }
  }

 private:
  std::vector<std::unique_ptr<T[]>> blocks_;
  size_t size_ = 0;
};

}  // namespace savoir
