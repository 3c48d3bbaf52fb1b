// TEMPORARY exact-scan VectorIndex so this branch builds until branch `vectors` lands; deleted at that merge.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "common/file.h"
#include "index/vector_index.h"

namespace savoir {
namespace {
class Flat final : public VectorIndex {
 public:
  std::string dir;
  int dims;
  std::map<int64_t, std::vector<float>> live;
  Status Add(const std::vector<int64_t>& ids, const std::vector<float>& v) override {
    for (size_t i = 0; i < ids.size(); ++i) live[ids[i]] = std::vector<float>(v.begin() + i * dims, v.begin() + (i + 1) * dims);
    return Status::Ok();
  }
  Status Remove(const std::vector<int64_t>& ids) override {
    for (auto id : ids) live.erase(id);
    return Status::Ok();
  }
  Status Commit() override {
    std::string out;
    for (auto& [id, v] : live) {
      out.append((const char*)&id, 8);
      out.append((const char*)v.data(), v.size() * 4);
    }
    return WriteFileAtomic(dir + "/flat", out);
  }
  Result<std::vector<VectorHit>> Search(const float* q, size_t k, const Roaring* allowed) const override {
    std::vector<VectorHit> h;
    for (auto& [id, v] : live) {
      if (allowed && !allowed->contains((uint32_t)id)) continue;
      float s = 0;
      for (int i = 0; i < dims; ++i) s += q[i] * v[i];
      h.push_back({id, s});
    }
    std::sort(h.begin(), h.end(), [](auto& a, auto& b) { return a.score > b.score; });
    if (h.size() > k) h.resize(k);
    return h;
  }
  size_t size() const override { return live.size(); }
  int dimensions() const override { return dims; }
  bool Contains(int64_t id) const override { return live.count(id); }
};
}  // namespace
Result<std::unique_ptr<VectorIndex>> VectorIndex::Open(const std::string& dir, const VectorIndexOptions& o) {
  auto f = std::make_unique<Flat>();
  f->dir = dir;
  f->dims = o.dimensions;
  SAVOIR_RETURN_IF_ERROR(MakeDirs(dir));
  auto d = ReadFile(dir + "/flat");
  if (d.ok()) {
    for (size_t p = 0; p + 8 <= d->size(); p += 8 + 4 * o.dimensions) {
      int64_t id;
      memcpy(&id, d->data() + p, 8);
      std::vector<float> v(o.dimensions);
      memcpy(v.data(), d->data() + p + 8, 4 * o.dimensions);
      f->live[id] = v;
    }
  }
  return std::unique_ptr<VectorIndex>(std::move(f));
}
}  // namespace savoir
