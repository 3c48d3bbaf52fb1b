// VectorIndex: compact vectors (f32/f16/i8) in one memory-mapped file per
// committed generation, an exact scan of the allowed subset, and (when the
// allowed share is large) a USearch HNSW graph over the same storage whose
// traversal takes the permission filter as a predicate. See docs/vectors.md.
#include "index/vector_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>

#include <usearch/index.hpp>

#include "common/file.h"
#include "index/vector_kernels.h"

namespace savoir {
namespace {

constexpr char kMagic[8] = {'S', 'V', 'V', 'E', 'C', 'S', '0', '1'};
constexpr uint32_t kFormatVersion = 1;
constexpr char kManifest[] = "MANIFEST";

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t dims;
  uint32_t quant;
  uint32_t reserved;
  uint64_t slots;
  uint64_t live;
  uint64_t ids_off;
  uint64_t dead_off;
  uint64_t vecs_off;
};
static_assert(sizeof(FileHeader) == 64);

uint64_t Align(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// A fast 64-bit checksum over a byte range (not cryptographic: it detects
// truncation and garbling, which is what the manifest needs).
struct Hasher {
  uint64_t h = 0x243F6A8885A308D3ull;
  uint64_t n = 0;
  uint8_t pend[8];
  size_t npend = 0;
  void Mix(uint64_t w) {
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  void Update(const void* data, size_t len) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    n += len;
    while (npend && len) {
      pend[npend++] = *p++;
      --len;
      if (npend == 8) {
        uint64_t w;
        std::memcpy(&w, pend, 8);
        Mix(w);
        npend = 0;
      }
    }
    while (len >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      Mix(w);
      p += 8;
      len -= 8;
    }
    while (len) {
      pend[npend++] = *p++;
      --len;
    }
  }
  uint64_t Final() const {
    Hasher c = *this;
    uint64_t w = 0;
    std::memcpy(&w, c.pend, c.npend);
    c.Mix(w ^ (c.n << 1) ^ 1);
    return c.h;
  }
};

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Result<VectorQuant> ParseQuant(const std::string& s) {
  if (s == "f32") return VectorQuant::kF32;
  if (s == "f16") return VectorQuant::kF16;
  if (s == "i8") return VectorQuant::kI8;
  return Status(ErrorKind::kInvalidArgument, "vector quantization must be f32, f16 or i8, not '" + s + "'");
}
const char* QuantName(VectorQuant q) { return q == VectorQuant::kF32 ? "f32" : q == VectorQuant::kF16 ? "f16" : "i8"; }

// A read-only mapping of a whole file.
class Mapping {
 public:
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { Reset(); }
  void Reset() {
    if (addr_ && addr_ != MAP_FAILED) ::munmap(addr_, len_);
    addr_ = nullptr;
    len_ = 0;
  }
  Status Open(const std::string& path) {
    Reset();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status(ErrorKind::kCorrupt, "vector index file missing: " + path);
      return Status(ErrorKind::kIo, "cannot open " + path + ": " + std::strerror(errno));
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return Status(ErrorKind::kIo, "cannot stat " + path);
    }
    len_ = static_cast<size_t>(st.st_size);
    if (len_ > 0) {
      addr_ = ::mmap(nullptr, len_, PROT_READ, MAP_SHARED, fd, 0);
      if (addr_ == MAP_FAILED) {
        addr_ = nullptr;
        ::close(fd);
        return Status(ErrorKind::kIo, "cannot map " + path + ": " + std::strerror(errno));
      }
    }
    ::close(fd);
    return Status::Ok();
  }
  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  size_t size() const { return len_; }

 private:
  void* addr_ = nullptr;
  size_t len_ = 0;
};

// Writes a file in pieces, hashing as it goes; fsync on Finish.
class FileWriter {
 public:
  ~FileWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status(ErrorKind::kIo, "cannot create " + path + ": " + std::strerror(errno));
    return Status::Ok();
  }
  Status Write(const void* data, size_t len) {
    hash_.Update(data, len);
    const char* p = static_cast<const char*>(data);
    while (len) {
      ssize_t n = ::write(fd_, p, len);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status(ErrorKind::kIo, "cannot write " + path_ + ": " + std::strerror(errno));
      }
      p += n;
      len -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  Status Pad(uint64_t to) {
    static const char zeros[64] = {};
    while (hash_.n < to) SAVOIR_RETURN_IF_ERROR(Write(zeros, std::min<uint64_t>(64, to - hash_.n)));
    return Status::Ok();
  }
  Status Finish() {
    if (::fsync(fd_) != 0) return Status(ErrorKind::kIo, "cannot sync " + path_ + ": " + std::strerror(errno));
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Status(ErrorKind::kIo, "cannot close " + path_);
    return Status::Ok();
  }
  uint64_t size() const { return hash_.n; }
  uint64_t hash() const { return hash_.Final(); }

 private:
  std::string path_;
  int fd_ = -1;
  Hasher hash_;
};

struct ManifestFile {
  std::string name;
  uint64_t size = 0;
  uint64_t hash = 0;
};

struct Manifest {
  uint64_t generation = 0;
  int dims = 0;
  VectorQuant quant = VectorQuant::kF16;
  ManifestFile vectors;
  ManifestFile graph;  // name empty: no graph
};

std::string ManifestBody(const Manifest& m) {
  std::ostringstream o;
  o << "savoir-vectors " << kFormatVersion << "\n"
    << "generation " << m.generation << "\n"
    << "dims " << m.dims << "\n"
    << "quantization " << QuantName(m.quant) << "\n"
    << "vectors " << m.vectors.name << " " << m.vectors.size << " " << Hex(m.vectors.hash) << "\n";
  if (m.graph.name.empty()) {
    o << "graph none\n";
  } else {
    o << "graph " << m.graph.name << " " << m.graph.size << " " << Hex(m.graph.hash) << "\n";
  }
  return o.str();
}

std::string SerializeManifest(const Manifest& m) {
  std::string body = ManifestBody(m);
  Hasher h;
  h.Update(body.data(), body.size());
  return body + "checksum " + Hex(h.Final()) + "\n";
}

bool SafeName(const std::string& s) {
  return !s.empty() && s.size() < 64 && s.find('/') == std::string::npos && s != "." && s != "..";
}

Result<Manifest> ParseManifest(const std::string& text, const std::string& path) {
  auto corrupt = [&](const std::string& why) { return Status(ErrorKind::kCorrupt, path + ": " + why); };
  size_t cpos = text.rfind("checksum ");
  if (cpos == std::string::npos || (cpos > 0 && text[cpos - 1] != '\n')) return corrupt("no checksum line");
  std::string body = text.substr(0, cpos);
  Hasher h;
  h.Update(body.data(), body.size());
  if (text.substr(cpos) != "checksum " + Hex(h.Final()) + "\n") return corrupt("checksum mismatch");
  std::istringstream in(body);
  std::string key;
  Manifest m;
  uint32_t version = 0;
  std::string quant, gname;
  if (!(in >> key >> version) || key != "savoir-vectors") return corrupt("not a vector index manifest");
  if (version != kFormatVersion) return Status(ErrorKind::kUnsupported, path + ": format version " + std::to_string(version));
  if (!(in >> key >> m.generation) || key != "generation") return corrupt("bad generation line");
  if (!(in >> key >> m.dims) || key != "dims" || m.dims <= 0 || m.dims > 65536) return corrupt("bad dims line");
  if (!(in >> key >> quant) || key != "quantization") return corrupt("bad quantization line");
  auto q = ParseQuant(quant);
  if (!q.ok()) return corrupt("unknown quantization " + quant);
  m.quant = *q;
  std::string hex;
  if (!(in >> key >> m.vectors.name >> m.vectors.size >> hex) || key != "vectors" || !SafeName(m.vectors.name))
    return corrupt("bad vectors line");
  m.vectors.hash = std::strtoull(hex.c_str(), nullptr, 16);
  if (!(in >> key >> gname) || key != "graph") return corrupt("bad graph line");
  if (gname != "none") {
    if (!SafeName(gname) || !(in >> m.graph.size >> hex)) return corrupt("bad graph line");
    m.graph.name = gname;
    m.graph.hash = std::strtoull(hex.c_str(), nullptr, 16);
  }
  return m;
}

Status CheckFileHash(const Mapping& map, const ManifestFile& f, const std::string& path) {
  if (map.size() != f.size)
    return Status(ErrorKind::kCorrupt, path + ": size " + std::to_string(map.size()) + ", manifest says " +
                                           std::to_string(f.size) + " (truncated or replaced)");
  Hasher h;
  h.Update(map.data(), map.size());
  if (h.Final() != f.hash) return Status(ErrorKind::kCorrupt, path + ": checksum mismatch");
  return Status::Ok();
}

struct Hit {
  float score;
  uint32_t id;
};
// Heap order: the worst hit on top (lowest score, then highest id).
struct WorseOnTop {
  bool operator()(const Hit& a, const Hit& b) const {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  }
};

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k + 1); }
  void Push(float score, uint32_t id) {
    if (heap_.size() < k_) {
      heap_.push_back({score, id});
      std::push_heap(heap_.begin(), heap_.end(), WorseOnTop());
    } else if (score > heap_.front().score || (score == heap_.front().score && id < heap_.front().id)) {
      std::pop_heap(heap_.begin(), heap_.end(), WorseOnTop());
      heap_.back() = {score, id};
      std::push_heap(heap_.begin(), heap_.end(), WorseOnTop());
    }
  }
  std::vector<VectorHit> Take() {
    std::sort_heap(heap_.begin(), heap_.end(), WorseOnTop());
    std::vector<VectorHit> out;
    out.reserve(heap_.size());
    for (const Hit& h : heap_) out.push_back({static_cast<int64_t>(h.id), h.score});
    return out;
  }

 private:
  size_t k_;
  std::vector<Hit> heap_;
};

// The HNSW graph (USearch's index_gt) over our own vector storage: graph
// slot == storage slot, and the metric reads the vectors by slot, so vectors
// are stored once, compactly.
using Graph = unum::usearch::index_gt<float, uint32_t, uint32_t>;
using unum::usearch::get_slot;
struct AddValue {
  size_t slot;
};
constexpr size_t kSearchContexts = 16;  // concurrent graph searches; more wait
constexpr size_t kWriterContext = kSearchContexts;
// Below this many live vectors the graph is not used (a scan is as fast).
constexpr size_t kMinGraphSize = 1024;

class VectorIndexImpl;

struct GraphMetric {
  const VectorIndexImpl* self;
  template <typename A, typename B>
  float operator()(const A& a, const B& b) const;
};

class VectorIndexImpl final : public VectorIndex {
  friend struct GraphMetric;

 public:
  VectorIndexImpl(std::string dir, VectorIndexOptions options) : dir_(std::move(dir)), options_(std::move(options)) {}

  Status Init() {
    SAVOIR_RETURN_IF_ERROR(MakeDirs(dir_));
    std::string mpath = dir_ + "/" + kManifest;
    std::error_code ec;
    if (!std::filesystem::exists(mpath, ec)) {
      if (options_.dimensions <= 0 || options_.dimensions > 65536)
        return Status(ErrorKind::kInvalidArgument,
                      "vector index dimensions must be between 1 and 65536, got " + std::to_string(options_.dimensions));
      auto q = ParseQuant(options_.quantization);
      if (!q.ok()) return q.status();
      dims_ = options_.dimensions;
      quant_ = *q;
      SetKernels();
      InitContexts();
      RemoveStrayFiles("");
      return Status::Ok();
    }
    auto text = ReadFile(mpath);
    if (!text.ok()) return text.status();
    auto m = ParseManifest(*text, mpath);
    if (!m.ok()) return m.status();
    if (options_.dimensions != 0 && options_.dimensions != m->dims)
      return Status(ErrorKind::kInvalidArgument, "vector index in " + dir_ + " has " + std::to_string(m->dims) +
                                                     " dimensions, asked for " + std::to_string(options_.dimensions));
    dims_ = m->dims;
    quant_ = m->quant;
    SetKernels();
    manifest_ = *m;
    SAVOIR_RETURN_IF_ERROR(LoadVectors());
    SAVOIR_RETURN_IF_ERROR(LoadGraph());
    InitContexts();
    RemoveStrayFiles(manifest_.vectors.name);
    return Status::Ok();
  }

  Status Add(const std::vector<int64_t>& ids, const std::vector<float>& vectors) override {
    const size_t d = static_cast<size_t>(dims_);
    if (vectors.size() != ids.size() * d)
      return Status(ErrorKind::kInvalidArgument, "vector index expects " + std::to_string(ids.size()) + " x " +
                                                     std::to_string(d) + " floats, got " + std::to_string(vectors.size()));
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] > 0xffffffffll)
        return Status(ErrorKind::kInvalidArgument, "vector id " + std::to_string(ids[i]) + " is outside [0, 2^32)");
      double norm = 0;
      for (size_t j = 0; j < d; ++j) {
        float x = vectors[i * d + j];
        if (!std::isfinite(x))
          return Status(ErrorKind::kInvalidArgument, "vector for id " + std::to_string(ids[i]) + " has a non-finite value");
        norm += static_cast<double>(x) * x;
      }
      if (norm == 0) return Status(ErrorKind::kInvalidArgument, "vector for id " + std::to_string(ids[i]) + " is zero");
    }
    std::vector<float> unit(d);
    std::vector<uint8_t> enc(stride_);
    for (size_t i = 0; i < ids.size(); ++i) {
      double norm = 0;
      for (size_t j = 0; j < d; ++j) norm += static_cast<double>(vectors[i * d + j]) * vectors[i * d + j];
      float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (size_t j = 0; j < d; ++j) unit[j] = vectors[i * d + j] * inv;
      EncodeVector(unit.data(), d, quant_, enc.data());
      SAVOIR_RETURN_IF_ERROR(AppendOne(static_cast<uint32_t>(ids[i]), enc.data()));
    }
    return Status::Ok();
  }

  Status Remove(const std::vector<int64_t>& ids) override {
    std::lock_guard gate(gate_);
    std::unique_lock lock(mu_);
    for (int64_t id : ids) {
      if (id < 0 || id > 0xffffffffll) continue;
      auto it = slot_of_.find(static_cast<uint32_t>(id));
      if (it == slot_of_.end()) continue;
      MarkDead(it->second);
      slot_of_.erase(it);
      dirty_ = true;
    }
    return Status::Ok();
  }

  Status Commit() override;

  Result<std::vector<VectorHit>> SearchImpl(const float* query, size_t k, const Roaring* allowed, size_t expansion,
                                            bool exact) const {
    if (query == nullptr) return Status(ErrorKind::kInvalidArgument, "null query vector");
    const size_t d = static_cast<size_t>(dims_);
    std::vector<float> q(query, query + d);
    double norm = 0;
    for (float x : q) {
      if (!std::isfinite(x)) return Status(ErrorKind::kInvalidArgument, "query vector has a non-finite value");
      norm += static_cast<double>(x) * x;
    }
    if (norm == 0 || k == 0) return std::vector<VectorHit>{};
    float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : q) x *= inv;

    ReaderGate();
    std::shared_lock lock(mu_);
    if (!exact) {
      size_t live = slot_of_.size();
      size_t allowed_n = allowed ? std::min<size_t>(allowed->cardinality(), live) : live;
      const double a = static_cast<double>(allowed_n), n = static_cast<double>(live);
      bool use_graph = graph_ && live >= kMinGraphSize && a >= options_.exact_scan_below * n &&
                       a * a >= options_.exact_scan_cost * n;
      if (use_graph) {
        auto hits = GraphSearch(q.data(), k, allowed, expansion ? expansion : options_.expansion_search);
        // A filtered traversal can come back short; the exact scan never does.
        if (hits.size() >= std::min(k, allowed_n)) return hits;
      }
    }
    return ExactSearch(q.data(), k, allowed);
  }

  Result<std::vector<VectorHit>> Search(const float* query, size_t k, const Roaring* allowed) const override {
    return SearchImpl(query, k, allowed, 0, false);
  }
  Result<std::vector<VectorHit>> SearchWithExpansion(const float* query, size_t k, const Roaring* allowed,
                                                     size_t expansion) const override {
    return SearchImpl(query, k, allowed, expansion, false);
  }
  Result<std::vector<VectorHit>> SearchExact(const float* query, size_t k, const Roaring* allowed) const override {
    return SearchImpl(query, k, allowed, 0, true);
  }

  size_t size() const override {
    std::shared_lock lock(mu_);
    return slot_of_.size();
  }
  int dimensions() const override { return dims_; }
  bool Contains(int64_t id) const override {
    if (id < 0 || id > 0xffffffffll) return false;
    std::shared_lock lock(mu_);
    return slot_of_.count(static_cast<uint32_t>(id)) > 0;
  }

 private:
  // glibc's rwlock prefers readers: a writer waiting for the exclusive lock
  // holds gate_, and new readers queue behind it instead of starving it.
  void ReaderGate() const { std::lock_guard gate(gate_); }

  void InitContexts() {
    free_ctx_.clear();
    for (size_t c = 0; c < kSearchContexts; ++c) free_ctx_.push_back(c);
  }

  void SetKernels() {
    stride_ = QuantBytes(quant_) * static_cast<size_t>(dims_);
    dot_query_ = GetDotQuery(quant_);
    dot_stored_ = GetDotStored(quant_);
  }

  const uint8_t* VectorAt(size_t slot) const {
    return slot < base_slots_ ? base_vecs_ + slot * stride_ : tail_.data() + (slot - base_slots_) * stride_;
  }
  bool IsDead(size_t slot) const { return (dead_[slot >> 6] >> (slot & 63)) & 1; }
  void MarkDead(size_t slot) { dead_[slot >> 6] |= uint64_t{1} << (slot & 63); }

  Status AppendOne(uint32_t id, const uint8_t* enc) {
    size_t slot;
    {
      std::lock_guard gate(gate_);
      std::unique_lock lock(mu_);
      SAVOIR_RETURN_IF_ERROR(MakeGraphWritable());
      slot = ids_.size();
      if (slot >= 0xffffffffull) return Status(ErrorKind::kTooLarge, "vector index is full (2^32 slots)");
      if (graph_->capacity() <= slot) {
        size_t cap = std::max<size_t>(1024, slot * 2);
        if (!graph_->reserve(unum::usearch::index_limits_t(cap, kSearchContexts + 1)))
          return Status(ErrorKind::kInternal, "out of memory growing the vector graph");
      }
      auto it = slot_of_.find(id);
      if (it != slot_of_.end()) MarkDead(it->second);
      tail_.insert(tail_.end(), enc, enc + stride_);
      ids_.push_back(id);
      if (dead_.size() * 64 < ids_.size()) dead_.push_back(0);
      slot_of_[id] = static_cast<uint32_t>(slot);
      dirty_ = true;
      graph_dirty_ = true;
    }
    // Linking the node runs beside searches (USearch locks nodes itself);
    // storage only moves under the exclusive lock above.
    std::shared_lock lock(mu_);
    unum::usearch::index_update_config_t cfg;
    cfg.expansion = static_cast<size_t>(std::max(options_.expansion_add, 8));
    cfg.thread = kWriterContext;
    auto added = graph_->add(static_cast<uint32_t>(slot), AddValue{slot}, GraphMetric{this}, cfg);
    if (!added) return Status(ErrorKind::kInternal, std::string("vector graph: ") + added.error.release());
    if (added.slot != slot) return Status(ErrorKind::kInternal, "vector graph slot out of step with storage");
    return Status::Ok();
  }

  // The graph loaded from a committed file is a read-only view of the
  // mapping; the first change copies it into memory.
  Status MakeGraphWritable() {
    if (graph_ && !graph_->is_immutable()) return Status::Ok();
    auto g = std::make_unique<Graph>(GraphConfig());
    if (graph_ && graph_->size() > 0) {
      const uint8_t* p = graph_map_->data();
      size_t len = graph_map_->size(), off = 0;
      auto r = g->load_from_stream([&](void* buf, size_t n) {
        if (off + n > len) return false;
        std::memcpy(buf, p + off, n);
        off += n;
        return true;
      });
      if (!r) return Status(ErrorKind::kCorrupt, std::string("vector graph: ") + r.error.release());
    }
    if (!g->reserve(unum::usearch::index_limits_t(std::max<size_t>(1024, ids_.size() + 1), kSearchContexts + 1)))
      return Status(ErrorKind::kInternal, "out of memory reserving the vector graph");
    graph_ = std::move(g);
    graph_map_.reset();
    return Status::Ok();
  }

  unum::usearch::index_config_t GraphConfig() const {
    size_t m = static_cast<size_t>(std::clamp(options_.connectivity, 4, 64));
    return unum::usearch::index_config_t(m, 2 * m);
  }

  // A search context of the graph for this call (each concurrent search needs its own).
  size_t AcquireContext() const {
    std::unique_lock lock(ctx_mu_);
    ctx_cv_.wait(lock, [&] { return !free_ctx_.empty(); });
    size_t c = free_ctx_.back();
    free_ctx_.pop_back();
    return c;
  }
  void ReleaseContext(size_t c) const {
    {
      std::lock_guard lock(ctx_mu_);
      free_ctx_.push_back(c);
    }
    ctx_cv_.notify_one();
  }

  std::vector<VectorHit> GraphSearch(const float* q, size_t k, const Roaring* allowed, size_t expansion) const {
    unum::usearch::index_search_config_t cfg;
    cfg.expansion = std::max(expansion, k);
    size_t ctx = AcquireContext();
    cfg.thread = ctx;
    auto pred = [&](const Graph::member_cref_t& m) {
      size_t s = m.slot;
      return !IsDead(s) && (allowed == nullptr || allowed->contains(ids_[s]));
    };
    // Nothing to filter (no filter, nothing removed): the unfiltered traversal.
    auto r = (allowed == nullptr && slot_of_.size() == ids_.size())
                 ? graph_->search(q, k, GraphMetric{this}, cfg)
                 : graph_->search(q, k, GraphMetric{this}, cfg, pred);
    std::vector<VectorHit> out;
    if (r) {
      out.reserve(r.count);
      for (size_t i = 0; i < r.count; ++i) {
        auto m = r[i];
        out.push_back({static_cast<int64_t>(ids_[m.member.slot]), 1.0f - m.distance});
      }
    }
    ReleaseContext(ctx);
    std::sort(out.begin(), out.end(), [](const VectorHit& a, const VectorHit& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    return out;
  }

  Status LoadGraph() {
    if (manifest_.graph.name.empty()) return Status::Ok();
    std::string path = dir_ + "/" + manifest_.graph.name;
    auto map = std::make_unique<Mapping>();
    SAVOIR_RETURN_IF_ERROR(map->Open(path));
    SAVOIR_RETURN_IF_ERROR(CheckFileHash(*map, manifest_.graph, path));
    if (map->size() < sizeof(unum::usearch::index_serialized_header_t))
      return Status(ErrorKind::kCorrupt, path + ": shorter than its header");
    unum::usearch::index_serialized_header_t h;
    std::memcpy(&h, map->data(), sizeof(h));
    if (h.size != ids_.size()) return Status(ErrorKind::kCorrupt, path + ": graph and vectors disagree on the count");
    if (h.size && h.entry_slot >= h.size) return Status(ErrorKind::kCorrupt, path + ": bad entry point");
    auto g = std::make_unique<Graph>(GraphConfig());
    if (!g->reserve(unum::usearch::index_limits_t(0, kSearchContexts + 1)))
      return Status(ErrorKind::kInternal, "out of memory reserving the vector graph");
    unum::usearch::memory_mapped_file_t file(reinterpret_cast<unum::usearch::byte_t*>(const_cast<uint8_t*>(map->data())), map->size());
    auto r = g->view(std::move(file));
    if (!r) return Status(ErrorKind::kCorrupt, path + ": " + r.error.release());
    graph_ = std::move(g);
    graph_map_ = std::move(map);
    return Status::Ok();
  }

  Status WriteGraph(const std::string& name, ManifestFile* out) const {
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(w.Open(dir_ + "/" + name));
    Status st;
    auto r = graph_->save_to_stream([&](const void* buf, size_t n) {
      st = w.Write(buf, n);
      return st.ok();
    });
    SAVOIR_RETURN_IF_ERROR(st);
    if (!r) return Status(ErrorKind::kInternal, std::string("vector graph: ") + r.error.release());
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    *out = ManifestFile{name, w.size(), w.hash()};
    return Status::Ok();
  }

  std::vector<VectorHit> ExactSearch(const float* q, size_t k, const Roaring* allowed) const {
    TopK top(k);
    const size_t d = static_cast<size_t>(dims_);
    const size_t slots = ids_.size();
    if (allowed == nullptr || allowed->cardinality() > slot_of_.size() / 4) {
      for (size_t s = 0; s < slots; ++s) {
        if (IsDead(s)) continue;
        if (allowed && !allowed->contains(ids_[s])) continue;
        top.Push(dot_query_(q, VectorAt(s), d), ids_[s]);
      }
    } else {
      for (uint32_t id : *allowed) {
        auto it = slot_of_.find(id);
        if (it == slot_of_.end()) continue;
        top.Push(dot_query_(q, VectorAt(it->second), d), id);
      }
    }
    return top.Take();
  }

  std::string FileName(const char* kind, uint64_t gen) const { return std::string(kind) + "-" + std::to_string(gen) + ".bin"; }

  Status LoadVectors() {
    std::string path = dir_ + "/" + manifest_.vectors.name;
    auto map = std::make_unique<Mapping>();
    SAVOIR_RETURN_IF_ERROR(map->Open(path));
    SAVOIR_RETURN_IF_ERROR(CheckFileHash(*map, manifest_.vectors, path));
    auto corrupt = [&](const std::string& why) { return Status(ErrorKind::kCorrupt, path + ": " + why); };
    if (map->size() < sizeof(FileHeader)) return corrupt("shorter than its header");
    FileHeader h;
    std::memcpy(&h, map->data(), sizeof(h));
    if (std::memcmp(h.magic, kMagic, 8) != 0) return corrupt("bad magic");
    if (h.version != kFormatVersion) return corrupt("unknown version");
    if (h.dims != static_cast<uint32_t>(dims_) || h.quant != static_cast<uint32_t>(quant_))
      return corrupt("header disagrees with the manifest");
    if (h.slots > 0xffffffffull) return corrupt("too many slots");
    uint64_t ids_off = sizeof(FileHeader);
    uint64_t dead_off = Align(ids_off + h.slots * 4, 8);
    uint64_t vecs_off = Align(dead_off + (h.slots + 63) / 64 * 8, 64);
    if (h.ids_off != ids_off || h.dead_off != dead_off || h.vecs_off != vecs_off ||
        map->size() != vecs_off + h.slots * stride_)
      return corrupt("layout does not match its size");
    const uint8_t* p = map->data();
    ids_.resize(h.slots);
    std::memcpy(ids_.data(), p + ids_off, h.slots * 4);
    dead_.assign((h.slots + 63) / 64, 0);
    std::memcpy(dead_.data(), p + dead_off, dead_.size() * 8);
    slot_of_.clear();
    slot_of_.reserve(h.live);
    for (size_t s = 0; s < h.slots; ++s) {
      if (IsDead(s)) continue;
      if (!slot_of_.emplace(ids_[s], static_cast<uint32_t>(s)).second)
        return corrupt("id " + std::to_string(ids_[s]) + " is live twice");
    }
    if (slot_of_.size() != h.live) return corrupt("live count disagrees with the deletion bitmap");
    base_vecs_ = p + vecs_off;
    base_slots_ = h.slots;
    tail_.clear();
    vectors_map_ = std::move(map);
    return Status::Ok();
  }

  Status WriteVectors(const std::string& name, ManifestFile* out) const {
    std::string path = dir_ + "/" + name;
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(w.Open(path));
    FileHeader h{};
    std::memcpy(h.magic, kMagic, 8);
    h.version = kFormatVersion;
    h.dims = static_cast<uint32_t>(dims_);
    h.quant = static_cast<uint32_t>(quant_);
    h.slots = ids_.size();
    h.live = slot_of_.size();
    h.ids_off = sizeof(FileHeader);
    h.dead_off = Align(h.ids_off + h.slots * 4, 8);
    h.vecs_off = Align(h.dead_off + (h.slots + 63) / 64 * 8, 64);
    SAVOIR_RETURN_IF_ERROR(w.Write(&h, sizeof(h)));
    SAVOIR_RETURN_IF_ERROR(w.Write(ids_.data(), ids_.size() * 4));
    SAVOIR_RETURN_IF_ERROR(w.Pad(h.dead_off));
    SAVOIR_RETURN_IF_ERROR(w.Write(dead_.data(), (h.slots + 63) / 64 * 8));
    SAVOIR_RETURN_IF_ERROR(w.Pad(h.vecs_off));
    if (base_slots_) SAVOIR_RETURN_IF_ERROR(w.Write(base_vecs_, base_slots_ * stride_));
    if (!tail_.empty()) SAVOIR_RETURN_IF_ERROR(w.Write(tail_.data(), tail_.size()));
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    *out = ManifestFile{name, w.size(), w.hash()};
    return Status::Ok();
  }

  // Deletes files an interrupted commit may have left (anything but the
  // manifest and the files it names).
  void RemoveStrayFiles(const std::string& keep_vectors) const {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      std::string name = e.path().filename().string();
      if (name == kManifest || name == keep_vectors || (!manifest_.graph.name.empty() && name == manifest_.graph.name))
        continue;
      bool ours = (name.rfind("vectors-", 0) == 0 || name.rfind("graph-", 0) == 0 || name == std::string(kManifest) + ".tmp");
      if (ours) std::filesystem::remove(e.path(), ec);
    }
  }

  std::string dir_;
  VectorIndexOptions options_;
  int dims_ = 0;
  VectorQuant quant_ = VectorQuant::kF16;
  size_t stride_ = 0;
  DotQueryFn dot_query_ = nullptr;
  DotStoredFn dot_stored_ = nullptr;
  Manifest manifest_;
  bool dirty_ = false;

  mutable std::mutex gate_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Mapping> vectors_map_;
  const uint8_t* base_vecs_ = nullptr;
  size_t base_slots_ = 0;
  std::vector<uint8_t> tail_;
  std::vector<uint32_t> ids_;
  std::vector<uint64_t> dead_;
  std::unordered_map<uint32_t, uint32_t> slot_of_;
  std::unique_ptr<Mapping> graph_map_;  // backs a viewed graph (declared first: outlives it)
  std::unique_ptr<Graph> graph_;
  bool graph_dirty_ = false;
  mutable std::mutex ctx_mu_;
  mutable std::condition_variable ctx_cv_;
  mutable std::vector<size_t> free_ctx_;
};

template <typename A, typename B>
float GraphMetric::operator()(const A& a, const B& b) const {
  const size_t d = static_cast<size_t>(self->dims_);
  const uint8_t* vb = self->VectorAt(get_slot(b));
  if constexpr (std::is_same_v<A, const float*> || std::is_same_v<A, float*>) {
    return 1.0f - self->dot_query_(a, vb, d);
  } else if constexpr (std::is_same_v<A, AddValue>) {
    return 1.0f - self->dot_stored_(self->VectorAt(a.slot), vb, d);
  } else {
    return 1.0f - self->dot_stored_(self->VectorAt(get_slot(a)), vb, d);
  }
}

Status VectorIndexImpl::Commit() {
  if (!dirty_ && !manifest_.vectors.name.empty()) return Status::Ok();
  Manifest next = manifest_;
  next.generation = manifest_.generation + 1;
  next.dims = dims_;
  next.quant = quant_;
  SAVOIR_RETURN_IF_ERROR(WriteVectors(FileName("vectors", next.generation), &next.vectors));
  next.graph = ManifestFile{};
  if (graph_ && graph_->size() > 0) {
    if (graph_dirty_ || manifest_.graph.name.empty()) {
      SAVOIR_RETURN_IF_ERROR(WriteGraph(FileName("graph", next.generation), &next.graph));
    } else {
      next.graph = manifest_.graph;  // unchanged (e.g. only removals): keep the file
    }
  }
  SAVOIR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + kManifest, SerializeManifest(next)));
  Manifest old = manifest_;
  // Map the new file and drop the in-memory tail.
  auto map = std::make_unique<Mapping>();
  SAVOIR_RETURN_IF_ERROR(map->Open(dir_ + "/" + next.vectors.name));
  {
    std::lock_guard gate(gate_);
    std::unique_lock lock(mu_);
    manifest_ = next;
    FileHeader h;
    std::memcpy(&h, map->data(), sizeof(h));
    base_vecs_ = map->data() + h.vecs_off;
    base_slots_ = h.slots;
    tail_.clear();
    tail_.shrink_to_fit();
    vectors_map_ = std::move(map);
    dirty_ = false;
    graph_dirty_ = false;
  }
  std::error_code ec;
  if (!old.vectors.name.empty()) std::filesystem::remove(dir_ + "/" + old.vectors.name, ec);
  if (!old.graph.name.empty() && old.graph.name != next.graph.name)
    std::filesystem::remove(dir_ + "/" + old.graph.name, ec);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<VectorIndex>> VectorIndex::Open(const std::string& dir, const VectorIndexOptions& options) {
  auto index = std::make_unique<VectorIndexImpl>(dir, options);
  SAVOIR_RETURN_IF_ERROR(index->Init());
  return std::unique_ptr<VectorIndex>(std::move(index));
}

}  // namespace savoir
