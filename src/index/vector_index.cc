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
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <usearch/index.hpp>

#include "common/file.h"
#include "index/vector_kernels.h"

namespace savoir {
namespace {

constexpr char kMagic[8] = {'S', 'V', 'V', 'E', 'C', 'S', '0', '2'};
constexpr uint32_t kFormatVersion = 2;
constexpr char kManifest[] = "MANIFEST";

// vectors-<epoch>.dat: this header, then every slot's vector (append-only).
struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t dims;
  uint32_t quant;
  uint32_t reserved;
  uint64_t epoch;
  uint8_t pad[32];
};
static_assert(sizeof(FileHeader) == 64);

// A fast 64-bit checksum over a byte range (not cryptographic: it detects
// truncation and garbling, which is what the manifest needs). Streaming, so
// an appended file's checksum continues from the committed prefix's.
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
  return Status(ErrorKind::kInvalidArgument, "vector storage must be f32, f16 or i8, not '" + s + "'");
}
const char* QuantName(VectorQuant q) { return q == VectorQuant::kF32 ? "f32" : q == VectorQuant::kF16 ? "f16" : "i8"; }

// A read-only mapping of a file's first `len` bytes (the committed prefix;
// an interrupted append may have left more).
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
  Status Open(const std::string& path, uint64_t len) {
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
    if (static_cast<uint64_t>(st.st_size) < len) {
      ::close(fd);
      return Status(ErrorKind::kCorrupt, path + ": size " + std::to_string(st.st_size) + ", manifest says " +
                                             std::to_string(len) + " (truncated)");
    }
    len_ = static_cast<size_t>(len);
    if (len_ > 0) {
      addr_ = ::mmap(nullptr, len_, PROT_READ, MAP_SHARED, fd, 0);
      if (addr_ == MAP_FAILED) {
        addr_ = nullptr;
        len_ = 0;
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

// Appends to a file at its committed length (dropping whatever an
// interrupted append left past it), hashing as it goes; fsync on Finish.
class FileWriter {
 public:
  ~FileWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  // `valid` bytes are kept (0 and `fresh`: a new file); `hash` is their checksum state.
  Status Open(const std::string& path, uint64_t valid, const Hasher& hash, bool fresh) {
    path_ = path;
    hash_ = hash;
    // Appending to a committed file that is gone (another process compacted
    // the folder) is an error, never a new zero-filled file under old checksums.
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | (fresh ? O_CREAT | O_TRUNC : 0), 0644);
    if (fd_ < 0)
      return Status(errno == ENOENT && !fresh ? ErrorKind::kCorrupt : ErrorKind::kIo,
                    std::string(fresh ? "cannot create " : "cannot open ") + path + ": " + std::strerror(errno));
    if (!fresh && ::ftruncate(fd_, static_cast<off_t>(valid)) != 0)
      return Status(ErrorKind::kIo, "cannot truncate " + path + ": " + std::strerror(errno));
    if (::lseek(fd_, static_cast<off_t>(valid), SEEK_SET) < 0)
      return Status(ErrorKind::kIo, "cannot seek " + path + ": " + std::strerror(errno));
    return Status::Ok();
  }
  Status Open(const std::string& path) { return Open(path, 0, Hasher{}, true); }
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
  Status Finish() {
    if (::fsync(fd_) != 0) return Status(ErrorKind::kIo, "cannot sync " + path_ + ": " + std::strerror(errno));
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Status(ErrorKind::kIo, "cannot close " + path_);
    return Status::Ok();
  }
  uint64_t size() const { return hash_.n; }
  const Hasher& hasher() const { return hash_; }

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

// The MANIFEST names what is valid: the epoch's three append-only files
// (vectors, slot ids, tombstones) up to the committed lengths, and the graph
// file with the number of slots it covers.
struct Manifest {
  uint64_t generation = 0;
  uint64_t epoch = 0;
  int dims = 0;
  VectorQuant quant = VectorQuant::kF16;
  uint64_t slots = 0;
  ManifestFile vectors, ids, dead;
  ManifestFile graph;  // name empty: no graph
  uint64_t graph_slots = 0;
};

std::string ManifestBody(const Manifest& m) {
  std::ostringstream o;
  auto file = [&](const char* key, const ManifestFile& f) {
    o << key << " " << f.name << " " << f.size << " " << Hex(f.hash) << "\n";
  };
  o << "savoir-vectors " << kFormatVersion << "\n"
    << "generation " << m.generation << "\n"
    << "epoch " << m.epoch << "\n"
    << "dims " << m.dims << "\n"
    << "quantization " << QuantName(m.quant) << "\n"
    << "slots " << m.slots << "\n";
  file("vectors", m.vectors);
  file("ids", m.ids);
  file("dead", m.dead);
  if (m.graph.name.empty()) {
    o << "graph none\n";
  } else {
    o << "graph " << m.graph.name << " " << m.graph.size << " " << Hex(m.graph.hash) << " " << m.graph_slots << "\n";
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
  std::string quant, gname, hex;
  if (!(in >> key >> version) || key != "savoir-vectors") return corrupt("not a vector index manifest");
  if (version != kFormatVersion)
    return Status(ErrorKind::kUnsupported, path + ": vector index format " + std::to_string(version) +
                                               " (this version reads " + std::to_string(kFormatVersion) +
                                               "); the index is derived data and must be rebuilt");
  if (!(in >> key >> m.generation) || key != "generation") return corrupt("bad generation line");
  if (!(in >> key >> m.epoch) || key != "epoch") return corrupt("bad epoch line");
  if (!(in >> key >> m.dims) || key != "dims" || m.dims <= 0 || m.dims > 65536) return corrupt("bad dims line");
  if (!(in >> key >> quant) || key != "quantization") return corrupt("bad quantization line");
  auto q = ParseQuant(quant);
  if (!q.ok()) return corrupt("unknown quantization " + quant);
  m.quant = *q;
  if (!(in >> key >> m.slots) || key != "slots" || m.slots > 0xffffffffull) return corrupt("bad slots line");
  for (auto [want, f] : {std::pair<const char*, ManifestFile*>{"vectors", &m.vectors}, {"ids", &m.ids}, {"dead", &m.dead}}) {
    if (!(in >> key >> f->name >> f->size >> hex) || key != want || !SafeName(f->name))
      return corrupt(std::string("bad ") + want + " line");
    f->hash = std::strtoull(hex.c_str(), nullptr, 16);
  }
  if (!(in >> key >> gname) || key != "graph") return corrupt("bad graph line");
  if (gname != "none") {
    if (!SafeName(gname) || !(in >> m.graph.size >> hex >> m.graph_slots) || m.graph_slots > m.slots)
      return corrupt("bad graph line");
    m.graph.name = gname;
    m.graph.hash = std::strtoull(hex.c_str(), nullptr, 16);
  }
  return m;
}

// Checks a mapped committed prefix against its manifest entry; returns the
// checksum state (to continue from on the next append).
Result<Hasher> CheckFileHash(const Mapping& map, const ManifestFile& f, const std::string& path) {
  Hasher h;
  if (map.size()) h.Update(map.data(), map.size());
  if (map.size() != f.size || h.Final() != f.hash) return Status(ErrorKind::kCorrupt, path + ": checksum mismatch");
  return h;
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
using unum::usearch::get_key;
using unum::usearch::get_slot;
struct AddValue {
  size_t slot;
};
constexpr size_t kSearchContexts = 16;  // concurrent graph searches; more wait
constexpr size_t kWriterContext = kSearchContexts;
// Below this many live vectors the graph is not used (a scan is as fast).
constexpr size_t kMinGraphSize = 1024;

class VectorIndexImpl;

// Distances for the graph. `flat`, when set, is a contiguous buffer of
// vectors by slot (a compaction building its new graph); otherwise the
// index's own storage.
struct GraphMetric {
  const VectorIndexImpl* self;
  const uint8_t* flat = nullptr;
  bool by_key = false;  // with `flat`: a member's vector is flat[key] (a parallel build, where slots follow add order)
  template <typename A, typename B>
  float operator()(const A& a, const B& b) const;
};

class VectorIndexImpl final : public VectorIndex {
  friend struct GraphMetric;

 public:
  VectorIndexImpl(std::string dir, VectorIndexOptions options) : dir_(std::move(dir)), options_(std::move(options)) {}
  // A compaction still building is abandoned (it wrote nothing); the next
  // commit past the threshold starts another.
  ~VectorIndexImpl() override {
    if (compaction_) {
      compaction_->cancel = true;
      if (compaction_->thread.joinable()) compaction_->thread.join();
    }
  }

  Status Init() {
    SAVOIR_RETURN_IF_ERROR(MakeDirs(dir_));
    std::string mpath = dir_ + "/" + kManifest;
    std::error_code ec;
    if (!std::filesystem::exists(mpath, ec)) {
      if (options_.dimensions <= 0 || options_.dimensions > 65536)
        return Status(ErrorKind::kInvalidArgument,
                      "vector index dimensions must be between 1 and 65536, got " + std::to_string(options_.dimensions));
      auto q = ParseQuant(options_.quantization.empty() ? std::string("f16") : options_.quantization);
      if (!q.ok()) return q.status();
      dims_ = options_.dimensions;
      quant_ = *q;
      SetKernels();
      InitContexts();
      return Status::Ok();
    }
    // A writer in another process may compact (and delete the files this
    // manifest names) between our reading the manifest and the files: retry
    // when the manifest changed meanwhile.
    Status st;
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto text = ReadFile(mpath);
      if (!text.ok()) return text.status();
      st = LoadCommitted(*text, mpath);
      if (st.ok() || st.kind() != ErrorKind::kCorrupt) break;
      auto again = ReadFile(mpath);
      if (!again.ok() || *again == *text) break;
    }
    SAVOIR_RETURN_IF_ERROR(st);
    InitContexts();
    return Status::Ok();
  }

  Status LoadCommitted(const std::string& text, const std::string& mpath) {
    auto m = ParseManifest(text, mpath);
    if (!m.ok()) return m.status();
    if (options_.dimensions != 0 && options_.dimensions != m->dims)
      return Status(ErrorKind::kInvalidArgument, "vector index in " + dir_ + " has " + std::to_string(m->dims) +
                                                     " dimensions, asked for " + std::to_string(options_.dimensions));
    if (!options_.quantization.empty()) {
      auto q = ParseQuant(options_.quantization);
      if (!q.ok()) return q.status();
      if (*q != m->quant)
        return Status(ErrorKind::kUnsupported, "vector index in " + dir_ + " stores " + QuantName(m->quant) +
                                                   " vectors, asked for " + options_.quantization +
                                                   ": the index must be rebuilt to change its storage");
    }
    dims_ = m->dims;
    quant_ = m->quant;
    SetKernels();
    manifest_ = *m;
    SAVOIR_RETURN_IF_ERROR(LoadVectors());
    SAVOIR_RETURN_IF_ERROR(LoadIdsAndTombstones());
    SAVOIR_RETURN_IF_ERROR(LoadGraph());
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

  Status FinishCompaction() override {
    SAVOIR_RETURN_IF_ERROR(broken_);
    if (!compaction_) return Status::Ok();
    SAVOIR_RETURN_IF_ERROR(JoinCompaction());
    return AdoptCompaction();
  }

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
      const size_t linked = graph_ ? std::min(graph_->size(), ids_.size()) : 0;
      bool use_graph = linked >= kMinGraphSize && live >= kMinGraphSize && a >= options_.exact_scan_below * n &&
                       a * a >= options_.exact_scan_cost * n;
      if (use_graph) {
        auto hits = GraphSearch(q.data(), k, allowed, expansion ? expansion : options_.expansion_search);
        if (linked < ids_.size()) {
          // Slots committed by a writer since the graph file was saved: scanned exactly.
          TopK top(k);
          for (const VectorHit& h : hits) top.Push(h.score, static_cast<uint32_t>(h.id));
          ScanSlots(q.data(), linked, ids_.size(), allowed, top);
          hits = top.Take();
        }
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

  VectorIndexStats Stats() const override {
    ReaderGate();
    std::shared_lock lock(mu_);
    VectorIndexStats s;
    s.live = slot_of_.size();
    s.slots = ids_.size();
    s.dead = dead_count_;
    s.graph_slots = graph_ ? graph_->size() : 0;
    s.epoch = manifest_.epoch;
    s.generation = manifest_.generation;
    s.disk_bytes = manifest_.vectors.size + manifest_.ids.size + manifest_.dead.size + manifest_.graph.size;
    s.memory_bytes = ids_.capacity() * 4 + dead_.capacity() * 8 + tail_.capacity() + new_dead_.capacity() * 4 +
                     slot_of_.bucket_count() * sizeof(void*) + slot_of_.size() * 32 +
                     (graph_ && !graph_->is_immutable() ? graph_->memory_usage() : 0);
    s.compactions = compactions_;
    s.compacting = compacting_.load();
    s.compaction_built = s.compacting && compaction_built_.load();
    return s;
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
  void MarkDead(size_t slot) {
    dead_[slot >> 6] |= uint64_t{1} << (slot & 63);
    ++dead_count_;
    new_dead_.push_back(static_cast<uint32_t>(slot));
  }

  Status AppendOne(uint32_t id, const uint8_t* enc) {
    std::lock_guard gate(gate_);
    std::unique_lock lock(mu_);
    SAVOIR_RETURN_IF_ERROR(MakeGraphWritable());
    const size_t slot = ids_.size();
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
    // Linking runs under the exclusive lock too: USearch's add rewrites
    // neighbour lists that its search reads without locking them (a data
    // race ThreadSanitizer reports), so a search waits for one link (about
    // a millisecond) rather than reading a list being rewritten.
    return LinkSlot(*graph_, slot, GraphMetric{this});
  }

  Status LinkSlot(Graph& g, size_t slot, const GraphMetric& metric) const {
    unum::usearch::index_update_config_t cfg;
    cfg.expansion = static_cast<size_t>(std::max(options_.expansion_add, 8));
    cfg.thread = kWriterContext;
    auto added = g.add(static_cast<uint32_t>(slot), AddValue{slot}, metric, cfg);
    if (!added) return Status(ErrorKind::kInternal, std::string("vector graph: ") + added.error.release());
    if (added.slot != slot) return Status(ErrorKind::kInternal, "vector graph slot out of step with storage");
    return Status::Ok();
  }

  // The graph loaded from a committed file is a read-only view of the
  // mapping; the first change copies it into memory and links the slots
  // committed after it was saved. Called under the exclusive lock.
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
    if (!g->reserve(unum::usearch::index_limits_t(ids_.size() + 1024, kSearchContexts + 1)))
      return Status(ErrorKind::kInternal, "out of memory reserving the vector graph");
    for (size_t s = g->size(); s < ids_.size(); ++s) SAVOIR_RETURN_IF_ERROR(LinkSlot(*g, s, GraphMetric{this}));
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
    auto r = (allowed == nullptr && dead_count_ == 0) ? graph_->search(q, k, GraphMetric{this}, cfg)
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

  void ScanSlots(const float* q, size_t from, size_t to, const Roaring* allowed, TopK& top) const {
    const size_t d = static_cast<size_t>(dims_);
    for (size_t s = from; s < to; ++s) {
      if (IsDead(s)) continue;
      if (allowed && !allowed->contains(ids_[s])) continue;
      top.Push(dot_query_(q, VectorAt(s), d), ids_[s]);
    }
  }

  std::vector<VectorHit> ExactSearch(const float* q, size_t k, const Roaring* allowed) const {
    TopK top(k);
    const size_t d = static_cast<size_t>(dims_);
    if (allowed == nullptr || allowed->cardinality() > slot_of_.size() / 4) {
      ScanSlots(q, 0, ids_.size(), allowed, top);
    } else {
      for (uint32_t id : *allowed) {
        auto it = slot_of_.find(id);
        if (it == slot_of_.end()) continue;
        top.Push(dot_query_(q, VectorAt(it->second), d), id);
      }
    }
    return top.Take();
  }

  static std::string EpochFile(const char* kind, uint64_t epoch) {
    return std::string(kind) + "-" + std::to_string(epoch) + ".dat";
  }
  static std::string GraphFile(uint64_t generation) { return "graph-" + std::to_string(generation) + ".bin"; }

  Status LoadVectors() {
    std::string path = dir_ + "/" + manifest_.vectors.name;
    auto corrupt = [&](const std::string& why) { return Status(ErrorKind::kCorrupt, path + ": " + why); };
    if (manifest_.vectors.size != sizeof(FileHeader) + manifest_.slots * stride_)
      return corrupt("manifest length disagrees with its slot count");
    auto map = std::make_unique<Mapping>();
    SAVOIR_RETURN_IF_ERROR(map->Open(path, manifest_.vectors.size));
    SAVOIR_ASSIGN_OR_RETURN(vec_hash_, CheckFileHash(*map, manifest_.vectors, path));
    FileHeader h;
    std::memcpy(&h, map->data(), sizeof(h));
    if (std::memcmp(h.magic, kMagic, 8) != 0) return corrupt("bad magic");
    if (h.version != kFormatVersion) return corrupt("unknown version");
    if (h.dims != static_cast<uint32_t>(dims_) || h.quant != static_cast<uint32_t>(quant_) ||
        h.epoch != manifest_.epoch)
      return corrupt("header disagrees with the manifest");
    base_vecs_ = map->data() + sizeof(FileHeader);
    base_slots_ = manifest_.slots;
    tail_.clear();
    vectors_map_ = std::move(map);
    return Status::Ok();
  }

  Status LoadIdsAndTombstones() {
    const size_t slots = manifest_.slots;
    std::string ipath = dir_ + "/" + manifest_.ids.name, dpath = dir_ + "/" + manifest_.dead.name;
    if (manifest_.ids.size != slots * 4) return Status(ErrorKind::kCorrupt, ipath + ": length disagrees with its slot count");
    if (manifest_.dead.size % 4 != 0 || manifest_.dead.size / 4 > slots)
      return Status(ErrorKind::kCorrupt, dpath + ": bad length");
    Mapping imap, dmap;
    SAVOIR_RETURN_IF_ERROR(imap.Open(ipath, manifest_.ids.size));
    SAVOIR_ASSIGN_OR_RETURN(ids_hash_, CheckFileHash(imap, manifest_.ids, ipath));
    SAVOIR_RETURN_IF_ERROR(dmap.Open(dpath, manifest_.dead.size));
    SAVOIR_ASSIGN_OR_RETURN(dead_hash_, CheckFileHash(dmap, manifest_.dead, dpath));
    ids_.resize(slots);
    if (slots) std::memcpy(ids_.data(), imap.data(), slots * 4);
    dead_.assign((slots + 63) / 64, 0);
    dead_count_ = 0;
    new_dead_.clear();
    for (size_t i = 0; i < manifest_.dead.size / 4; ++i) {
      uint32_t s;
      std::memcpy(&s, dmap.data() + i * 4, 4);
      if (s >= slots || IsDead(s)) return Status(ErrorKind::kCorrupt, dpath + ": bad tombstone " + std::to_string(s));
      dead_[s >> 6] |= uint64_t{1} << (s & 63);
      ++dead_count_;
    }
    slot_of_.clear();
    slot_of_.reserve(slots - dead_count_);
    for (size_t s = 0; s < slots; ++s) {
      if (IsDead(s)) continue;
      if (!slot_of_.emplace(ids_[s], static_cast<uint32_t>(s)).second)
        return Status(ErrorKind::kCorrupt, ipath + ": id " + std::to_string(ids_[s]) + " is live twice");
    }
    return Status::Ok();
  }

  Status LoadGraph() {
    graph_.reset();
    graph_map_.reset();
    if (manifest_.graph.name.empty()) return Status::Ok();
    std::string path = dir_ + "/" + manifest_.graph.name;
    auto map = std::make_unique<Mapping>();
    SAVOIR_RETURN_IF_ERROR(map->Open(path, manifest_.graph.size));
    SAVOIR_RETURN_IF_ERROR(CheckFileHash(*map, manifest_.graph, path).status());
    if (map->size() < sizeof(unum::usearch::index_serialized_header_t))
      return Status(ErrorKind::kCorrupt, path + ": shorter than its header");
    unum::usearch::index_serialized_header_t h;
    std::memcpy(&h, map->data(), sizeof(h));
    if (h.size != manifest_.graph_slots) return Status(ErrorKind::kCorrupt, path + ": graph and manifest disagree on the count");
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

  static Status WriteGraph(const Graph& graph, const std::string& dir, const std::string& name, ManifestFile* out) {
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(w.Open(dir + "/" + name));
    Status st;
    auto r = graph.save_to_stream([&](const void* buf, size_t n) {
      st = w.Write(buf, n);
      return st.ok();
    });
    SAVOIR_RETURN_IF_ERROR(st);
    if (!r) return Status(ErrorKind::kInternal, std::string("vector graph: ") + r.error.release());
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    *out = ManifestFile{name, w.size(), w.hasher().Final()};
    return Status::Ok();
  }

  FileHeader MakeHeader(uint64_t epoch) const {
    FileHeader h{};
    std::memcpy(h.magic, kMagic, 8);
    h.version = kFormatVersion;
    h.dims = static_cast<uint32_t>(dims_);
    h.quant = static_cast<uint32_t>(quant_);
    h.epoch = epoch;
    return h;
  }

  // Deletes what interrupted commits and replaced epochs left (anything of
  // ours the manifest does not name). Only the writer calls it, after a commit.
  void RemoveStrayFiles() const {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      std::string name = e.path().filename().string();
      if (name == kManifest || name == manifest_.vectors.name || name == manifest_.ids.name ||
          name == manifest_.dead.name || (!manifest_.graph.name.empty() && name == manifest_.graph.name))
        continue;
      bool ours = name.rfind("vectors-", 0) == 0 || name.rfind("ids-", 0) == 0 || name.rfind("dead-", 0) == 0 ||
                  name.rfind("graph-", 0) == 0 || name == std::string(kManifest) + ".tmp";
      if (ours) std::filesystem::remove(e.path(), ec);
    }
  }

  // The manifest names the new state but this object could not adopt it:
  // later commits would reuse its file names, so they are refused.
  static Status AfterManifest(const Status& st) {
    return Status(st.kind(), "vector index committed but not reloaded (reopen it): " + st.message());
  }

  // A compaction: the live vectors copied when it starts, and a graph built
  // over that copy on a thread of its own while the index goes on serving,
  // adding, removing and committing incrementally. A later Commit (or
  // FinishCompaction) adopts it on the writer's thread: slots removed since
  // the copy become the new epoch's tombstones, slots added since are copied
  // and linked, then the new epoch is written and swapped in. Nothing is
  // written to disk before that, so an abandoned compaction leaves no file.
  struct Compaction {
    size_t from_slots = 0;           // the index's slots when it started
    std::vector<uint32_t> old_slot;  // new slot -> the slot it was copied from
    std::vector<uint32_t> ids;       // new slot -> chunk id
    std::vector<uint8_t> buf;        // vectors by new slot
    std::unique_ptr<Graph> graph;
    Status status;                   // of the build
    std::atomic<bool> cancel{false};
    std::atomic<bool> done{false};
    std::thread thread;
  };
  void StartCompaction();
  void BuildCompactionGraph(Compaction& c) const;
  // Waits for the build; on failure drops the compaction and returns why.
  Status JoinCompaction();
  Status AdoptCompaction();
  // Forgets a compaction that failed (reported on stderr); the next one
  // starts once the index has grown by a tenth, not at every commit.
  void DropCompaction(const Status& why) {
    std::fprintf(stderr, "savoir: vector index compaction failed, retried later: %s\n", why.ToString().c_str());
    compaction_.reset();
    compacting_ = false;
    retry_compaction_at_ = ids_.size() + ids_.size() / 10;
  }
  // Maps the committed vectors file of `next` and makes it the current state
  // (the caller holds the exclusive lock for the swap).
  Status Adopt(const Manifest& next);

  std::string dir_;
  VectorIndexOptions options_;
  int dims_ = 0;
  VectorQuant quant_ = VectorQuant::kF16;
  size_t stride_ = 0;
  DotQueryFn dot_query_ = nullptr;
  DotStoredFn dot_stored_ = nullptr;
  Manifest manifest_;  // what is committed
  Hasher vec_hash_, ids_hash_, dead_hash_;  // checksum states of the committed prefixes
  bool dirty_ = false;
  Status broken_;  // set when a commit reached the manifest but could not be adopted
  size_t compactions_ = 0;
  std::unique_ptr<Compaction> compaction_;  // the writer's; readers see only these flags
  std::atomic<bool> compacting_{false};
  mutable std::atomic<bool> compaction_built_{false};  // set by the build thread when it is done
  size_t retry_compaction_at_ = 0;  // after a failed compaction: slots the index must reach first

  mutable std::mutex gate_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Mapping> vectors_map_;
  const uint8_t* base_vecs_ = nullptr;
  size_t base_slots_ = 0;        // slots in the mapped file; the rest are in tail_
  std::vector<uint8_t> tail_;    // vectors added since the last commit
  std::vector<uint32_t> ids_;    // chunk id of every slot
  std::vector<uint64_t> dead_;   // deletion bitmap by slot
  size_t dead_count_ = 0;
  std::vector<uint32_t> new_dead_;  // slots removed since the last commit (the next tombstones)
  std::unordered_map<uint32_t, uint32_t> slot_of_;
  std::unique_ptr<Mapping> graph_map_;  // backs a viewed graph (declared first: outlives it)
  std::unique_ptr<Graph> graph_;
  mutable std::mutex ctx_mu_;
  mutable std::condition_variable ctx_cv_;
  mutable std::vector<size_t> free_ctx_;
};

template <typename A, typename B>
float GraphMetric::operator()(const A& a, const B& b) const {
  const size_t d = static_cast<size_t>(self->dims_);
  auto at = [&](size_t slot) { return flat ? flat + slot * self->stride_ : self->VectorAt(slot); };
  const uint8_t* vb = at(by_key ? static_cast<size_t>(get_key(b)) : get_slot(b));
  if constexpr (std::is_same_v<A, const float*> || std::is_same_v<A, float*>) {
    return 1.0f - self->dot_query_(a, vb, d);
  } else if constexpr (std::is_same_v<A, AddValue>) {
    return 1.0f - self->dot_stored_(at(a.slot), vb, d);
  } else {
    return 1.0f - self->dot_stored_(at(by_key ? static_cast<size_t>(get_key(a)) : get_slot(a)), vb, d);
  }
}

// An incremental commit: appends the new slots' vectors and ids and the new
// tombstones to the epoch's files (at their committed lengths, so whatever an
// interrupted commit appended is dropped), fsyncs them, saves the graph when
// the slots it lacks exceed graph_lag_share, then replaces the MANIFEST
// atomically. A crash before the rename leaves the previous manifest, whose
// lengths and checksums still describe intact prefixes.
Status VectorIndexImpl::Commit() {
  SAVOIR_RETURN_IF_ERROR(broken_);
  // A compaction whose graph is built is adopted now (it carries every
  // change, committed or not); one that failed is dropped, and tried again.
  // An adoption that fails before its MANIFEST (a full disk: it writes a
  // whole epoch) falls back to the incremental commit.
  if (compaction_ && compaction_->done.load(std::memory_order_acquire)) {
    if (JoinCompaction().ok()) {
      Status st = AdoptCompaction();
      if (st.ok() || !broken_.ok()) return st;
      DropCompaction(st);
    }
  }
  if (!dirty_ && !manifest_.vectors.name.empty()) return Status::Ok();
  const size_t slots = ids_.size();
  if (!compaction_ && slots >= retry_compaction_at_ && options_.compact_dead_share > 0 && dead_count_ > 0 &&
      static_cast<double>(dead_count_) > options_.compact_dead_share * static_cast<double>(slots))
    StartCompaction();
  const bool fresh = manifest_.vectors.name.empty();
  Manifest next = manifest_;
  next.generation = manifest_.generation + 1;
  next.dims = dims_;
  next.quant = quant_;
  next.slots = slots;
  if (fresh) {
    next.epoch = manifest_.epoch + 1;
    next.vectors.name = EpochFile("vectors", next.epoch);
    next.ids.name = EpochFile("ids", next.epoch);
    next.dead.name = EpochFile("dead", next.epoch);
  }
  const size_t from = fresh ? 0 : manifest_.slots;
  Hasher vh, ih, dh;
  {
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(fresh ? w.Open(dir_ + "/" + next.vectors.name)
                                 : w.Open(dir_ + "/" + next.vectors.name, manifest_.vectors.size, vec_hash_, false));
    if (fresh) {
      FileHeader h = MakeHeader(next.epoch);
      SAVOIR_RETURN_IF_ERROR(w.Write(&h, sizeof(h)));
    }
    if (base_slots_ > from) SAVOIR_RETURN_IF_ERROR(w.Write(base_vecs_ + from * stride_, (base_slots_ - from) * stride_));
    if (!tail_.empty()) SAVOIR_RETURN_IF_ERROR(w.Write(tail_.data(), tail_.size()));
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    next.vectors.size = w.size();
    next.vectors.hash = w.hasher().Final();
    vh = w.hasher();
  }
  {
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(fresh ? w.Open(dir_ + "/" + next.ids.name)
                                 : w.Open(dir_ + "/" + next.ids.name, manifest_.ids.size, ids_hash_, false));
    if (slots > from) SAVOIR_RETURN_IF_ERROR(w.Write(ids_.data() + from, (slots - from) * 4));
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    next.ids.size = w.size();
    next.ids.hash = w.hasher().Final();
    ih = w.hasher();
  }
  {
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(fresh ? w.Open(dir_ + "/" + next.dead.name)
                                 : w.Open(dir_ + "/" + next.dead.name, manifest_.dead.size, dead_hash_, false));
    // Slots die only once, so new_dead_ holds exactly the tombstones to add
    // (on a fresh epoch: every dead slot).
    if (!new_dead_.empty()) SAVOIR_RETURN_IF_ERROR(w.Write(new_dead_.data(), new_dead_.size() * 4));
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    next.dead.size = w.size();
    next.dead.hash = w.hasher().Final();
    dh = w.hasher();
  }
  // The graph file: rewritten when the slots it lacks exceed the allowed lag.
  const size_t linked = graph_ ? graph_->size() : 0;
  if (graph_ && !graph_->is_immutable() && linked > next.graph_slots) {
    size_t missing = slots - static_cast<size_t>(next.graph_slots);
    if (next.graph.name.empty() || static_cast<double>(missing) > options_.graph_lag_share * static_cast<double>(slots)) {
      SAVOIR_RETURN_IF_ERROR(WriteGraph(*graph_, dir_, GraphFile(next.generation), &next.graph));
      next.graph_slots = linked;
    }
  }
  SAVOIR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + kManifest, SerializeManifest(next)));
  if (Status st = Adopt(next); !st.ok()) return broken_ = AfterManifest(st);
  vec_hash_ = vh;
  ids_hash_ = ih;
  dead_hash_ = dh;
  RemoveStrayFiles();
  return Status::Ok();
}

Status VectorIndexImpl::Adopt(const Manifest& next) {
  auto map = std::make_unique<Mapping>();
  SAVOIR_RETURN_IF_ERROR(map->Open(dir_ + "/" + next.vectors.name, next.vectors.size));
  std::lock_guard gate(gate_);
  std::unique_lock lock(mu_);
  manifest_ = next;
  base_vecs_ = map->data() + sizeof(FileHeader);
  base_slots_ = next.slots;
  tail_.clear();
  tail_.shrink_to_fit();
  vectors_map_ = std::move(map);
  new_dead_.clear();
  new_dead_.shrink_to_fit();
  dirty_ = false;
  return Status::Ok();
}

// Copies the live vectors and starts building their graph on its own
// thread (the writer goes on; see Compaction).
void VectorIndexImpl::StartCompaction() {
  auto c = std::make_unique<Compaction>();
  const size_t slots = ids_.size(), live = slots - dead_count_;
  c->from_slots = slots;
  c->old_slot.reserve(live);
  c->ids.reserve(live);
  c->buf.reserve(live * stride_);
  for (size_t s = 0; s < slots; ++s) {
    if (IsDead(s)) continue;
    c->old_slot.push_back(static_cast<uint32_t>(s));
    c->ids.push_back(ids_[s]);
    const uint8_t* v = VectorAt(s);
    c->buf.insert(c->buf.end(), v, v + stride_);
  }
  Compaction* p = c.get();
  compaction_built_ = false;  // before the thread exists: it sets it when done
  try {
    c->thread = std::thread([this, p] { BuildCompactionGraph(*p); });
  } catch (const std::system_error&) {
    return;  // no thread to spare: the next commit tries again
  }
  compaction_ = std::move(c);
  compacting_ = true;
}

// The compaction's thread: links the copied vectors into a new graph. Reads
// only the copy and this index's immutable settings.
void VectorIndexImpl::BuildCompactionGraph(Compaction& c) const {
  const size_t n = c.ids.size();
  auto finish = [&](Status st) {
    c.status = std::move(st);
    c.done.store(true, std::memory_order_release);
    compaction_built_ = true;
  };
  auto g = std::make_unique<Graph>(GraphConfig());
  if (!g->reserve(unum::usearch::index_limits_t(n + 1024, kSearchContexts + 1)))
    return finish(Status(ErrorKind::kInternal, "out of memory reserving the vector graph"));
  const Status cancelled(ErrorKind::kInternal, "vector index compaction abandoned");
  const size_t threads =
      n >= 1024 ? std::clamp<size_t>(static_cast<size_t>(std::max(options_.compact_threads, 1)), 1, kSearchContexts) : 1;
  if (threads <= 1) {
    for (size_t s = 0; s < n; ++s) {
      if (c.cancel.load(std::memory_order_relaxed)) return finish(cancelled);
      if (Status st = LinkSlot(*g, s, GraphMetric{this, c.buf.data()}); !st.ok()) return finish(st);
    }
  } else {
    // Parallel build: each vector is added under its buffer index as key and
    // slots follow the (interleaved) add order; the copy is then laid out
    // in slot order so that graph slot == storage slot again.
    std::atomic<size_t> next{0};
    std::mutex err_mu;
    Status err;
    auto work = [&](size_t t) {
      unum::usearch::index_update_config_t cfg;
      cfg.expansion = static_cast<size_t>(std::max(options_.expansion_add, 8));
      cfg.thread = t;
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        if (c.cancel.load(std::memory_order_relaxed)) {
          std::lock_guard lock(err_mu);
          err = cancelled;
          next = n;
          break;
        }
        auto added = g->add(static_cast<uint32_t>(i), AddValue{i}, GraphMetric{this, c.buf.data(), true}, cfg);
        if (!added) {
          std::lock_guard lock(err_mu);
          err = Status(ErrorKind::kInternal, std::string("vector graph: ") + added.error.release());
          next = n;
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
    if (!err.ok()) return finish(err);
    if (g->size() != n) return finish(Status(ErrorKind::kInternal, "vector graph: parallel build lost vectors"));
    std::vector<uint8_t> by_slot(c.buf.size());
    std::vector<uint32_t> ids_by_slot(n), old_by_slot(n);
    for (size_t s = 0; s < n; ++s) {
      size_t key = g->at(static_cast<uint32_t>(s)).key;
      if (key >= n) return finish(Status(ErrorKind::kInternal, "vector graph: bad key after parallel build"));
      std::memcpy(by_slot.data() + s * stride_, c.buf.data() + key * stride_, stride_);
      ids_by_slot[s] = c.ids[key];
      old_by_slot[s] = c.old_slot[key];
    }
    c.buf = std::move(by_slot);
    c.ids = std::move(ids_by_slot);
    c.old_slot = std::move(old_by_slot);
  }
  c.graph = std::move(g);
  finish(Status::Ok());
}

Status VectorIndexImpl::JoinCompaction() {
  if (compaction_->thread.joinable()) compaction_->thread.join();
  Status st = compaction_->status;
  if (!st.ok()) DropCompaction(st);
  return st;
}

// Adopts a built compaction: catches up with the changes made since its
// copy, writes the new epoch (vectors, ids, tombstones, graph), replaces the
// MANIFEST and swaps the state under the exclusive lock.
Status VectorIndexImpl::AdoptCompaction() {
  std::unique_ptr<Compaction> c = std::move(compaction_);
  compacting_ = false;
  Graph& g = *c->graph;
  std::vector<uint32_t> tombs;  // new slots whose source slot died since the copy
  for (size_t s = 0; s < c->ids.size(); ++s)
    if (IsDead(c->old_slot[s])) tombs.push_back(static_cast<uint32_t>(s));
  size_t added = 0;
  for (size_t o = c->from_slots; o < ids_.size(); ++o) added += !IsDead(o);
  if (added > 0) {
    const size_t total = c->ids.size() + added;
    if (!g.reserve(unum::usearch::index_limits_t(total + 1024, kSearchContexts + 1)))
      return Status(ErrorKind::kInternal, "out of memory growing the vector graph");
    c->buf.reserve(total * stride_);
    for (size_t o = c->from_slots; o < ids_.size(); ++o) {
      if (IsDead(o)) continue;
      const uint8_t* v = VectorAt(o);
      c->buf.insert(c->buf.end(), v, v + stride_);
      c->ids.push_back(ids_[o]);
      SAVOIR_RETURN_IF_ERROR(LinkSlot(g, c->ids.size() - 1, GraphMetric{this, c->buf.data()}));
    }
  }
  const size_t n = c->ids.size();
  std::vector<uint8_t>& buf = c->buf;
  std::vector<uint32_t>& new_ids = c->ids;

  Manifest next;
  next.generation = manifest_.generation + 1;
  next.epoch = manifest_.epoch + 1;
  next.dims = dims_;
  next.quant = quant_;
  next.slots = n;
  next.vectors.name = EpochFile("vectors", next.epoch);
  next.ids.name = EpochFile("ids", next.epoch);
  next.dead.name = EpochFile("dead", next.epoch);
  Hasher ih, dh;
  {
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(w.Open(dir_ + "/" + next.vectors.name));
    FileHeader h = MakeHeader(next.epoch);
    SAVOIR_RETURN_IF_ERROR(w.Write(&h, sizeof(h)));
    SAVOIR_RETURN_IF_ERROR(w.Write(buf.data(), buf.size()));
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    next.vectors.size = w.size();
    next.vectors.hash = w.hasher().Final();
  }
  {
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(w.Open(dir_ + "/" + next.ids.name));
    SAVOIR_RETURN_IF_ERROR(w.Write(new_ids.data(), n * 4));
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    next.ids.size = w.size();
    next.ids.hash = w.hasher().Final();
    ih = w.hasher();
  }
  {
    FileWriter w;
    SAVOIR_RETURN_IF_ERROR(w.Open(dir_ + "/" + next.dead.name));
    if (!tombs.empty()) SAVOIR_RETURN_IF_ERROR(w.Write(tombs.data(), tombs.size() * 4));
    SAVOIR_RETURN_IF_ERROR(w.Finish());
    next.dead.size = w.size();
    next.dead.hash = w.hasher().Final();
    dh = w.hasher();
  }
  if (n > 0) {
    SAVOIR_RETURN_IF_ERROR(WriteGraph(g, dir_, GraphFile(next.generation), &next.graph));
    next.graph_slots = n;
  }
  std::unordered_map<uint32_t, uint32_t> slot_of;
  std::vector<uint64_t> dead((n + 63) / 64, 0);
  for (uint32_t t : tombs) dead[t >> 6] |= uint64_t{1} << (t & 63);
  slot_of.reserve(n - tombs.size());
  for (size_t s = 0; s < n; ++s)
    if (!((dead[s >> 6] >> (s & 63)) & 1)) slot_of.emplace(new_ids[s], static_cast<uint32_t>(s));
  SAVOIR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + kManifest, SerializeManifest(next)));

  auto map = std::make_unique<Mapping>();
  if (Status st = map->Open(dir_ + "/" + next.vectors.name, next.vectors.size); !st.ok())
    return broken_ = AfterManifest(st);
  Hasher vh;
  vh.Update(map->data(), map->size());
  {
    std::lock_guard gate(gate_);
    std::unique_lock lock(mu_);
    manifest_ = next;
    base_vecs_ = map->data() + sizeof(FileHeader);
    base_slots_ = n;
    tail_.clear();
    tail_.shrink_to_fit();
    vectors_map_ = std::move(map);
    ids_ = std::move(new_ids);
    dead_ = std::move(dead);
    dead_count_ = tombs.size();
    new_dead_.clear();
    new_dead_.shrink_to_fit();
    slot_of_ = std::move(slot_of);
    graph_ = std::move(c->graph);  // before its old backing mapping goes
    graph_map_.reset();
    vec_hash_ = vh;
    ids_hash_ = ih;
    dead_hash_ = dh;
    dirty_ = false;
    ++compactions_;
  }
  RemoveStrayFiles();
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<VectorIndex>> VectorIndex::Open(const std::string& dir, const VectorIndexOptions& options) {
  auto index = std::make_unique<VectorIndexImpl>(dir, options);
  SAVOIR_RETURN_IF_ERROR(index->Init());
  return std::unique_ptr<VectorIndex>(std::move(index));
}

}  // namespace savoir
