// Filtered vector search: Savoir's VectorIndex against hnswlib, USearch,
// FAISS (Debian 1.7.3) and an exact scan, in one process, on the same
// clustered synthetic vectors and the same queries and permission filters.
//
// For every engine and selectivity (share of ids a user may see: 100 %, 10 %,
// 1 %, 0.1 %) it sweeps the search beam (ef) and reports the QPS (one
// thread) of the smallest ef whose recall@10 against the exact float answer
// is >= 0.95, plus build time and memory per million vectors. The filter is
// always passed into the search (never searched-then-dropped).
//
// Kernels: hnswlib and USearch run with the same runtime-dispatched dot
// product as Savoir (src/index/vector_kernels.h) — the project builds
// without -march=native, so their compile-time SIMD would fall back to SSE or
// scalar code; this compares graph algorithms, not compiler flags. FAISS uses
// Debian's build as shipped.
//
//   build/vector_bench [--n 100000] [--dims 384] [--queries 200] [--faiss-n 20000]
//                      [--json out.json]
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <faiss/IndexHNSW.h>
#include <omp.h>
#include <faiss/impl/IDSelector.h>
#include <nlohmann/json.hpp>
#include <roaring/roaring.hh>

#include "hnswlib/hnswlib.h"
#include "index/vector_index.h"
#include "index/vector_kernels.h"
#include "usearch/index_dense.hpp"

using namespace savoir;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

// CPU time of this thread: the machine is shared, so QPS is queries per
// second of CPU actually spent (single-threaded searches), not per wall second.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

size_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

struct Data {
  int dims;
  size_t n;
  std::vector<float> base;     // n * dims, unit length
  std::vector<float> queries;  // nq * dims
  size_t nq;
};

// Gaussian clusters normalised to the unit sphere: like sentence embeddings,
// unlike uniform random vectors (HNSW's unrepresentative worst case).
Data MakeData(size_t n, size_t nq, int dims, int clusters, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> centers(static_cast<size_t>(clusters) * dims);
  for (float& c : centers) c = g(rng);
  auto fill = [&](std::vector<float>& out, size_t count) {
    out.resize(count * dims);
    std::uniform_int_distribution<int> pick(0, clusters - 1);
    for (size_t i = 0; i < count; ++i) {
      int c = pick(rng);
      double norm = 0;
      for (int j = 0; j < dims; ++j) {
        float x = centers[static_cast<size_t>(c) * dims + j] + 0.9f * g(rng);
        out[i * dims + j] = x;
        norm += double(x) * x;
      }
      float inv = static_cast<float>(1 / std::sqrt(norm));
      for (int j = 0; j < dims; ++j) out[i * dims + j] *= inv;
    }
  };
  Data d{dims, n, {}, {}, nq};
  fill(d.base, n);
  fill(d.queries, nq);
  return d;
}

using Answer = std::vector<uint32_t>;  // ids, best first

// Exact float ground truth over the allowed ids of the first `n` vectors.
std::vector<Answer> Truth(const Data& d, size_t n, const Roaring* allowed, size_t k) {
  DotQueryFn dot = GetDotQuery(VectorQuant::kF32);
  std::vector<Answer> out(d.nq);
  std::vector<std::pair<float, uint32_t>> all;
  for (size_t q = 0; q < d.nq; ++q) {
    all.clear();
    const float* qv = &d.queries[q * d.dims];
    auto push = [&](uint32_t i) { all.push_back({-dot(qv, &d.base[size_t(i) * d.dims], d.dims), i}); };
    if (allowed) {
      for (uint32_t i : *allowed)
        if (i < n) push(i);
    } else {
      for (uint32_t i = 0; i < n; ++i) push(i);
    }
    size_t m = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + m, all.end());
    for (size_t i = 0; i < m; ++i) out[q].push_back(all[i].second);
  }
  return out;
}

double Recall(const std::vector<Answer>& truth, const std::vector<Answer>& got) {
  size_t hit = 0, total = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::set<uint32_t> t(truth[q].begin(), truth[q].end());
    for (uint32_t id : got[q]) hit += t.count(id);
    total += truth[q].size();
  }
  return total ? double(hit) / total : 1.0;
}

// An engine: build once, then search with (query, k, ef, allowed).
struct Engine {
  std::string name;
  size_t n = 0;  // vectors indexed
  double build_s = 0;
  double mem_bytes = 0;  // measured growth of RSS (or file size), for n vectors
  std::string mem_note;
  std::vector<size_t> efs{16, 32, 64, 128, 256, 512};
  std::function<Answer(const float*, size_t, size_t, const Roaring*)> search;
};

// hnswlib with our runtime-dispatched f32 dot product.
float HnswIpDistance(const void* a, const void* b, const void* dims) {
  static DotQueryFn dot = GetDotQuery(VectorQuant::kF32);
  return 1.0f - dot(static_cast<const float*>(a), b, *static_cast<const size_t*>(dims));
}
class DispatchedIpSpace : public hnswlib::SpaceInterface<float> {
 public:
  explicit DispatchedIpSpace(size_t dims) : dims_(dims) {}
  size_t get_data_size() override { return dims_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return HnswIpDistance; }
  void* get_dist_func_param() override { return &dims_; }

 private:
  size_t dims_;
};
struct RoaringFilter : hnswlib::BaseFilterFunctor {
  const Roaring* allowed;
  explicit RoaringFilter(const Roaring* a) : allowed(a) {}
  bool operator()(hnswlib::labeltype id) override { return allowed->contains(static_cast<uint32_t>(id)); }
};

// USearch's stateless metric signature: distance(a, b) over f16 vectors.
size_t g_usearch_dims = 0;
unum::usearch::distance_punned_t UsearchF16Ip(unum::usearch::byte_t const* a, unum::usearch::byte_t const* b) {
  static DotStoredFn dot = GetDotStored(VectorQuant::kF16);
  return 1.0f - dot(a, b, g_usearch_dims);
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 100000, nq = 200, faiss_n = 20000, k = 10;
  int dims = 384, clusters = 0;
  std::string json_path;
  std::string only;
  std::string vectors_path;  // real embeddings instead of synthetic clusters
  std::string storage = "f16";  // Savoir's vector storage (quantization)
  size_t churn = 0;             // --churn R: R commit rounds replacing 1 % each, then exit
  size_t compactions = 0;       // --compactions C: C compactions alternating 1 and 2 threads, then exit
  std::vector<double> sels{1.0, 0.1, 0.01, 0.001};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--n") n = std::stoul(next());
    else if (a == "--dims") dims = std::stoi(next());
    else if (a == "--queries") nq = std::stoul(next());
    else if (a == "--faiss-n") faiss_n = std::stoul(next());
    else if (a == "--clusters") clusters = std::stoi(next());
    else if (a == "--json") json_path = next();
    else if (a == "--engines") only = next();
    else if (a == "--vectors") vectors_path = next();
    else if (a == "--storage") storage = next();
    else if (a == "--churn") churn = std::stoul(next());
    else if (a == "--compactions") compactions = std::stoul(next());
    else if (a == "--selectivities") {
      sels.clear();
      std::string list = next();
      for (size_t p = 0; p <= list.size();) {
        size_t c = list.find(',', p);
        if (c == std::string::npos) c = list.size();
        if (c > p) sels.push_back(std::stod(list.substr(p, c - p)));
        p = c + 1;
      }
    }
    else {
      std::fprintf(stderr, "usage: vector_bench [--n N] [--dims D] [--queries Q] [--faiss-n N] [--clusters C] "
                           "[--engines savoir,exact,hnswlib,usearch,faiss] [--json FILE]\n"
                           "  [--storage f16|f32|i8: Savoir's vector storage] [--selectivities 1,0.1,0.01,0.001]\n"
                           "  [--churn R: only Savoir; R commits each replacing 1 %% of the vectors, timed]\n"
                           "  [--compactions C: only Savoir; C compactions alternating 1 and 2 graph threads, timed]\n"
                           "  [--vectors FILE: raw float32 vectors of --dims each (bench/model_vectors.py);\n"
                           "   the last --queries of them are the queries, the others the index]\n");
      return 2;
    }
  }
  auto want = [&](const std::string& e) { return only.empty() || ("," + only + ",").find("," + e + ",") != std::string::npos; };
  Data loaded;
  if (!vectors_path.empty()) {
    std::ifstream in(vectors_path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t per = sizeof(float) * static_cast<size_t>(dims);
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "cannot read %s\n", vectors_path.c_str());
      return 1;
    }
    if (bytes.empty() || bytes.size() % per != 0 || bytes.size() / per <= nq) {
      std::fprintf(stderr, "%s: %zu bytes is not a whole number (> --queries) of %d-dimension float32 vectors\n",
                   vectors_path.c_str(), bytes.size(), dims);
      return 1;
    }
    size_t count = bytes.size() / per;
    std::vector<float> all(count * dims);
    std::memcpy(all.data(), bytes.data(), bytes.size());
    for (size_t i = 0; i < count; ++i) {  // unit length, as the embedders give
      double norm = 0;
      for (int j = 0; j < dims; ++j) norm += double(all[i * dims + j]) * all[i * dims + j];
      norm = std::sqrt(norm);
      if (norm > 0)
        for (int j = 0; j < dims; ++j) all[i * dims + j] = static_cast<float>(all[i * dims + j] / norm);
    }
    loaded.dims = dims;
    loaded.n = count - nq;
    loaded.nq = nq;
    loaded.base.assign(all.begin(), all.begin() + loaded.n * dims);
    loaded.queries.assign(all.begin() + loaded.n * dims, all.end());
    n = loaded.n;
  }
  faiss_n = std::min(faiss_n, n);
  omp_set_num_threads(1);  // every engine single-threaded; OpenMP spinning on a shared 2-core box only hurts
  if (clusters == 0) clusters = static_cast<int>(std::max<size_t>(10, n / 100));
  std::printf("(QPS = queries per CPU-second of the searching thread; build times are wall-clock)\n");
  std::printf("vector_bench: n=%zu dims=%d clusters=%d queries=%zu k=%zu kernel=%s savoir storage=%s\n", n, dims,
              clusters, nq, k, VectorKernelName(), storage.c_str());
  Data d = vectors_path.empty() ? MakeData(n, nq, dims, clusters, 42) : std::move(loaded);
  if (!vectors_path.empty()) std::printf("vectors from %s (not synthetic)\n", vectors_path.c_str());

  std::vector<Roaring> filters(sels.size());
  std::mt19937_64 rng(7);
  for (size_t s = 0; s < sels.size(); ++s) {
    if (sels[s] >= 1.0) continue;
    std::uniform_real_distribution<double> u(0, 1);
    for (uint32_t i = 0; i < n; ++i)
      if (u(rng) < sels[s]) filters[s].add(i);
    filters[s].runOptimize();
  }
  auto filter_of = [&](size_t s) -> const Roaring* { return sels[s] >= 1.0 ? nullptr : &filters[s]; };

  std::vector<std::unique_ptr<Engine>> engines;
  std::string tmp = std::filesystem::temp_directory_path().string() + "/vector_bench." + std::to_string(getpid());
  std::filesystem::create_directories(tmp);

  // --- Savoir: graph + exact scan below the switch point (as configured).
  std::unique_ptr<VectorIndex> savoir_index, savoir_graph;
  auto savoir_opts = VectorIndexOptions{};
  savoir_opts.dimensions = dims;
  savoir_opts.quantization = storage;
  if (want("savoir") || want("exact")) {
    size_t rss0 = RssBytes();
    auto t0 = Clock::now();
    auto opened = VectorIndex::Open(tmp + "/savoir", savoir_opts);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return 1;
    }
    savoir_index = std::move(opened.value());
    std::vector<int64_t> ids(n);
    for (size_t i = 0; i < n; ++i) ids[i] = static_cast<int64_t>(i);
    auto st = savoir_index->Add(ids, d.base);
    if (st.ok()) st = savoir_index->Commit();
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    double build = Seconds(t0);
    if (compactions > 0) {
      // Compaction cost by graph-building threads: each round replaces 36 %
      // of the vectors (so the commit compacts), alternating 1 and 2 threads.
      std::mt19937_64 crng(13);
      std::printf("compactions of %zu live %d-d vectors: wall s, process CPU s\n", n, dims);
      for (size_t r = 0; r < compactions; ++r) {
        int threads = r % 2 ? 2 : 1;
        savoir_index.reset();
        auto o = savoir_opts;
        o.compact_threads = threads;
        auto reopened = VectorIndex::Open(tmp + "/savoir", o);
        if (!reopened.ok()) return 1;
        savoir_index = std::move(reopened.value());
        std::vector<int64_t> rid;
        std::vector<float> rv;
        std::uniform_real_distribution<double> u(0, 1);
        for (size_t i = 0; i < n; ++i)
          if (u(crng) < 0.36) {
            rid.push_back(static_cast<int64_t>(i));
            rv.insert(rv.end(), d.base.begin() + i * dims, d.base.begin() + (i + 1) * dims);
          }
        auto st2 = savoir_index->Remove(rid);
        if (st2.ok()) st2 = savoir_index->Add(rid, rv);
        rusage ru0, ru1;
        getrusage(RUSAGE_SELF, &ru0);
        auto c0 = Clock::now();
        if (st2.ok()) st2 = savoir_index->Commit();  // starts the compaction, commits incrementally
        double commit_ms = Seconds(c0) * 1000;
        // The writer's next commits adopt it once its graph is built (what
        // an indexing loop does); the one that adopts is timed.
        double adopt_ms = 0;
        while (st2.ok() && savoir_index->Stats().compacting) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          auto a0 = Clock::now();
          st2 = savoir_index->Commit();
          adopt_ms = Seconds(a0) * 1000;
        }
        double wall = Seconds(c0);
        getrusage(RUSAGE_SELF, &ru1);
        auto cpu = [](const rusage& x) {
          return x.ru_utime.tv_sec + x.ru_stime.tv_sec + (x.ru_utime.tv_usec + x.ru_stime.tv_usec) * 1e-6;
        };
        if (!st2.ok() || savoir_index->Stats().compactions != 1) {
          std::fprintf(stderr, "no compaction: %s\n", st2.ToString().c_str());
          return 1;
        }
        std::printf("  %d thread(s): %.2f s wall, %.2f s CPU; the writer waited %.0f ms in the commit that started it,"
                    " %.0f ms in the one that adopted it\n",
                    threads, wall, cpu(ru1) - cpu(ru0), commit_ms, adopt_ms);
      }
      std::filesystem::remove_all(tmp);
      return 0;
    }
    if (churn > 0) {
      // Incremental commits: each round replaces 1 % of the vectors (removed,
      // then added again under the same ids) and commits. Reference, measured
      // in the same run: writing and fsyncing a copy of the whole vectors
      // file, what every commit did before commits became incremental.
      std::string vec_file;
      for (auto& e : std::filesystem::directory_iterator(tmp + "/savoir"))
        if (e.path().filename().string().rfind("vectors-", 0) == 0) vec_file = e.path().string();
      auto r0 = Clock::now();
      {
        std::ifstream in(vec_file, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        FILE* f = std::fopen((tmp + "/copy").c_str(), "wb");
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fflush(f);
        fsync(fileno(f));
        std::fclose(f);
      }
      double rewrite_ms = Seconds(r0) * 1000;
      std::filesystem::remove(tmp + "/copy");
      auto s0 = savoir_index->Stats();
      std::printf("churn: n=%zu; full rewrite of the %.1f MB vectors file + fsync: %.1f ms (wall)\n", n,
                  std::filesystem::file_size(vec_file) / 1e6, rewrite_ms);
      std::printf("%5s %10s %10s %8s %8s %6s %12s %12s\n", "round", "commit ms", "add ms", "slots", "dead", "epoch",
                  "disk MB", "heap MB");
      std::printf("%5d %10s %10s %8zu %8zu %6llu %12.1f %12.1f\n", 0, "-", "-", s0.slots, s0.dead,
                  (unsigned long long)s0.epoch, s0.disk_bytes / 1e6, s0.memory_bytes / 1e6);
      std::mt19937_64 crng(11);
      std::uniform_int_distribution<size_t> pick(0, n - 1);
      double commit_total = 0;
      for (size_t r = 1; r <= churn; ++r) {
        std::set<size_t> chosen;
        while (chosen.size() < std::max<size_t>(1, n / 100)) chosen.insert(pick(crng));
        std::vector<int64_t> rid;
        std::vector<float> rv;
        for (size_t i : chosen) {
          rid.push_back(static_cast<int64_t>(i));
          rv.insert(rv.end(), d.base.begin() + i * dims, d.base.begin() + (i + 1) * dims);
        }
        auto a0 = Clock::now();
        auto st2 = savoir_index->Remove(rid);
        if (st2.ok()) st2 = savoir_index->Add(rid, rv);
        double add_ms = Seconds(a0) * 1000;
        auto c0 = Clock::now();
        if (st2.ok()) st2 = savoir_index->Commit();
        double commit_ms = Seconds(c0) * 1000;
        if (!st2.ok()) {
          std::fprintf(stderr, "%s\n", st2.ToString().c_str());
          return 1;
        }
        commit_total += commit_ms;
        auto sr = savoir_index->Stats();
        std::printf("%5zu %10.1f %10.1f %8zu %8zu %6llu %12.1f %12.1f\n", r, commit_ms, add_ms, sr.slots, sr.dead,
                    (unsigned long long)sr.epoch, sr.disk_bytes / 1e6, sr.memory_bytes / 1e6);
      }
      std::printf("mean commit %.1f ms = %.2fx the full rewrite\n", commit_total / churn,
                  commit_total / churn / rewrite_ms);
      std::filesystem::remove_all(tmp);
      return 0;
    }
    size_t disk = 0;
    for (auto& e : std::filesystem::directory_iterator(tmp + "/savoir")) disk += e.file_size();
    VectorIndex* idx = savoir_index.get();
    if (want("savoir")) {
      auto e = std::make_unique<Engine>();
      e->name = "savoir";
      e->n = n;
      e->build_s = build;
      e->mem_bytes = double(RssBytes() > rss0 ? RssBytes() - rss0 : 0);
      e->mem_note = "RSS growth; files on disk " + std::to_string(disk / 1000000) + " MB";
      e->search = [idx](const float* q, size_t kk, size_t ef, const Roaring* allowed) {
        Answer a;
        auto r = idx->SearchWithExpansion(q, kk, allowed, ef);
        if (r.ok())
          for (auto& h : *r) a.push_back(static_cast<uint32_t>(h.id));
        return a;
      };
      engines.push_back(std::move(e));
    }
    if (want("savoir")) {
      // The same committed files reopened with the graph forced at every
      // selectivity: where it crosses the exact scan is the switch point.
      auto graph_opts = savoir_opts;
      graph_opts.exact_scan_below = 0;
      graph_opts.exact_scan_cost = 0;
      auto reopened = VectorIndex::Open(tmp + "/savoir", graph_opts);
      if (!reopened.ok()) {
        std::fprintf(stderr, "%s\n", reopened.status().ToString().c_str());
        return 1;
      }
      savoir_graph = std::move(reopened.value());
      VectorIndex* gi = savoir_graph.get();
      auto e = std::make_unique<Engine>();
      e->name = "sv-graph";
      e->n = n;
      e->build_s = build;
      e->mem_bytes = double(disk);
      e->mem_note = "files on disk, memory-mapped";
      e->search = [gi](const float* q, size_t kk, size_t ef, const Roaring* allowed) {
        Answer a;
        auto r = gi->SearchWithExpansion(q, kk, allowed, ef);
        if (r.ok())
          for (auto& h : *r) a.push_back(static_cast<uint32_t>(h.id));
        return a;
      };
      engines.push_back(std::move(e));
    }
    if (want("exact")) {
      auto e = std::make_unique<Engine>();
      e->name = "exact-" + storage;
      e->n = n;
      e->build_s = 0;
      e->mem_bytes = double(n) * dims * (storage == "f32" ? 4 : storage == "f16" ? 2 : 1);
      e->mem_note = "the " + storage + " vectors";
      e->efs = {0};
      e->search = [idx](const float* q, size_t kk, size_t, const Roaring* allowed) {
        Answer a;
        auto r = idx->SearchExact(q, kk, allowed);
        if (r.ok())
          for (auto& h : *r) a.push_back(static_cast<uint32_t>(h.id));
        return a;
      };
      engines.push_back(std::move(e));
    }
  }

  // --- hnswlib (M 16, ef_construction 128, f32).
  std::unique_ptr<DispatchedIpSpace> hspace;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
  if (want("hnswlib")) {
    size_t rss0 = RssBytes();
    auto t0 = Clock::now();
    hspace = std::make_unique<DispatchedIpSpace>(dims);
    hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(hspace.get(), n, 16, 128, 100);
    for (size_t i = 0; i < n; ++i) hnsw->addPoint(&d.base[i * dims], i);
    auto e = std::make_unique<Engine>();
    e->name = "hnswlib";
    e->n = n;
    e->build_s = Seconds(t0);
    e->mem_bytes = double(RssBytes() - rss0);
    e->mem_note = "RSS growth (f32 vectors inside the graph)";
    auto* h = hnsw.get();
    e->search = [h](const float* q, size_t kk, size_t ef, const Roaring* allowed) {
      h->setEf(ef);  // single-threaded bench: setting ef between queries is safe
      RoaringFilter f(allowed);
      auto res = h->searchKnnCloserFirst(q, kk, allowed ? &f : nullptr);
      Answer a;
      for (auto& p : res) a.push_back(static_cast<uint32_t>(p.second));
      return a;
    };
    engines.push_back(std::move(e));
  }

  // --- USearch (index_dense, f16 storage, M 16, expansion_add 128).
  using usearch_index_t = unum::usearch::index_dense_gt<uint64_t, uint32_t>;
  std::unique_ptr<usearch_index_t> us;
  if (want("usearch")) {
    namespace uu = unum::usearch;
    g_usearch_dims = dims;
    size_t rss0 = RssBytes();
    auto t0 = Clock::now();
    uu::metric_punned_t metric(dims, reinterpret_cast<std::uintptr_t>(&UsearchF16Ip),
                               uu::metric_punned_signature_t::array_array_k, uu::metric_kind_t::ip_k,
                               uu::scalar_kind_t::f16_k);
    uu::index_dense_config_t cfg(16, 128, 64);
    auto made = usearch_index_t::make(metric, cfg);
    if (!made) {
      std::fprintf(stderr, "usearch: %s\n", made.error.release());
      return 1;
    }
    us = std::make_unique<usearch_index_t>(std::move(made.index));
    us->reserve(uu::index_limits_t(n, 1));
    for (size_t i = 0; i < n; ++i) us->add(i, &d.base[i * dims], 0);
    auto e = std::make_unique<Engine>();
    e->name = "usearch";
    e->n = n;
    e->build_s = Seconds(t0);
    e->mem_bytes = double(RssBytes() - rss0);
    e->mem_note = "RSS growth (f16 vectors + graph)";
    auto* u = us.get();
    e->search = [u](const float* q, size_t kk, size_t ef, const Roaring* allowed) {
      u->change_expansion_search(ef);
      Answer a(kk);
      std::vector<uint64_t> keys(kk);
      size_t found;
      if (allowed) {
        auto r = u->filtered_search(q, kk, [allowed](uint64_t key) { return allowed->contains(static_cast<uint32_t>(key)); }, 0);
        found = r.dump_to(keys.data());
      } else {
        auto r = u->search(q, kk, 0);
        found = r.dump_to(keys.data());
      }
      a.resize(found);
      for (size_t i = 0; i < found; ++i) a[i] = static_cast<uint32_t>(keys[i]);
      return a;
    };
    engines.push_back(std::move(e));
  }

  // --- FAISS 1.7.3 HNSWFlat (inner product), on the first faiss_n vectors:
  // its build runs at tens to hundreds of vectors per second here.
  std::unique_ptr<faiss::IndexHNSWFlat> fidx;
  if (want("faiss") && faiss_n > 0) {
    size_t rss0 = RssBytes();
    auto t0 = Clock::now();
    fidx = std::make_unique<faiss::IndexHNSWFlat>(dims, 16, faiss::METRIC_INNER_PRODUCT);
    fidx->hnsw.efConstruction = 128;
    fidx->add(static_cast<faiss::Index::idx_t>(faiss_n), d.base.data());
    auto e = std::make_unique<Engine>();
    e->name = "faiss";
    e->n = faiss_n;
    e->build_s = Seconds(t0);
    e->mem_bytes = double(RssBytes() - rss0);
    e->mem_note = "RSS growth (f32 vectors + graph)";
    auto* f = fidx.get();
    size_t fn = faiss_n;
    e->search = [f, fn](const float* q, size_t kk, size_t ef, const Roaring* allowed) {
      std::vector<float> dist(kk);
      std::vector<faiss::Index::idx_t> labels(kk, -1);
      faiss::SearchParametersHNSW params;
      params.efSearch = static_cast<int>(ef);
      f->hnsw.efSearch = static_cast<int>(ef);  // 1.7.3 ignores params.efSearch (notes/vectors.md)
      std::vector<uint8_t> bits;
      std::unique_ptr<faiss::IDSelectorBitmap> sel;
      if (allowed) {
        bits.assign((fn + 7) / 8, 0);
        for (uint32_t id : *allowed)
          if (id < fn) bits[id >> 3] |= uint8_t(1u << (id & 7));
        sel = std::make_unique<faiss::IDSelectorBitmap>(fn, bits.data());
        params.sel = sel.get();
      }
      f->search(1, q, static_cast<faiss::Index::idx_t>(kk), dist.data(), labels.data(), &params);
      Answer a;
      for (auto l : labels)
        if (l >= 0) a.push_back(static_cast<uint32_t>(l));
      return a;
    };
    engines.push_back(std::move(e));
  }

  // --- Measure.
  nlohmann::json out;
  out["machine"] = {{"cores", sysconf(_SC_NPROCESSORS_ONLN)}, {"kernel", VectorKernelName()}};
  out["params"] = {{"n", n}, {"dims", dims}, {"clusters", clusters}, {"queries", nq}, {"k", k}, {"faiss_n", faiss_n}};
  std::map<std::pair<size_t, size_t>, std::vector<Answer>> truth_cache;  // (n, sel) -> truth
  auto truth_for = [&](size_t en, size_t s) -> const std::vector<Answer>& {
    auto key = std::make_pair(en, s);
    auto it = truth_cache.find(key);
    if (it == truth_cache.end()) it = truth_cache.emplace(key, Truth(d, en, filter_of(s), k)).first;
    return it->second;
  };
  std::printf("\n%-10s %8s %9s %10s %6s %8s %9s %6s  %s\n", "engine", "vectors", "build s", "MB/M vec", "sel", "best ef",
              "recall", "QPS", "(QPS at each ef: recall)");
  for (auto& e : engines) {
    nlohmann::json je;
    je["n"] = e->n;
    je["build_s"] = e->build_s;
    je["build_vectors_per_s"] = e->build_s > 0 ? e->n / e->build_s : 0;
    je["mem_mb_per_million"] = e->mem_bytes / 1e6 * (1e6 / e->n);
    je["mem_note"] = e->mem_note + " (extrapolated linearly to 1M)";
    for (size_t s = 0; s < sels.size(); ++s) {
      const Roaring* filter = filter_of(s);
      // FAISS indexes a prefix: restrict the filter to it (same selectivity).
      const auto& truth = truth_for(e->n, s);
      std::string detail;
      double best_qps = 0, best_recall = 0, top_recall = 0, top_qps = 0;
      long best_ef = -1;
      nlohmann::json sweep = nlohmann::json::array();
      for (size_t ef : e->efs) {
        std::vector<Answer> got(nq);
        double c0 = ThreadCpuSeconds();
        size_t reps = 0;
        do {
          for (size_t q = 0; q < nq; ++q) got[q] = e->search(&d.queries[q * dims], k, ef, filter);
          ++reps;
        } while (ThreadCpuSeconds() - c0 < 0.2);
        double qps = double(nq * reps) / (ThreadCpuSeconds() - c0);
        double rec = Recall(truth, got);
        sweep.push_back({{"ef", ef}, {"recall", rec}, {"qps", qps}});
        char buf[64];
        std::snprintf(buf, sizeof(buf), " %zu:%.0f/%.3f", ef, qps, rec);
        detail += buf;
        if (rec > top_recall) {
          top_recall = rec;
          top_qps = qps;
        }
        if (rec >= 0.95 && qps > best_qps) {
          best_qps = qps;
          best_recall = rec;
          best_ef = static_cast<long>(ef);
        }
      }
      char sel_s[16];
      std::snprintf(sel_s, sizeof(sel_s), "%g%%", sels[s] * 100);
      je["selectivity"][sel_s] = {{"best_ef", best_ef}, {"recall", best_recall}, {"qps", best_qps},
                                  {"max_recall", top_recall}, {"qps_at_max_recall", top_qps}, {"sweep", sweep}};
      std::printf("%-10s %8zu %9.1f %10.0f %6s %8ld %9.3f %6.0f  %s\n", e->name.c_str(), e->n, e->build_s,
                  double(je["mem_mb_per_million"]), sel_s, best_ef, best_ef < 0 ? top_recall : best_recall,
                  best_ef < 0 ? 0.0 : best_qps, detail.c_str());
    }
    out["engines"][e->name] = je;
  }
  // Ratios: Savoir / best library at recall >= 0.95 (same n; FAISS is on a prefix).
  if (out["engines"].contains("savoir")) {
    std::printf("\nSavoir QPS / best library QPS at recall >= 0.95 (target >= 1.0):\n");
    for (size_t s = 0; s < sels.size(); ++s) {
      char sel_s[16];
      std::snprintf(sel_s, sizeof(sel_s), "%g%%", sels[s] * 100);
      double ours = out["engines"]["savoir"]["selectivity"][sel_s]["qps"];
      double best = 0;
      std::string best_name = "-";
      for (const char* lib : {"hnswlib", "usearch", "faiss"}) {
        if (!out["engines"].contains(lib) || out["engines"][lib]["n"] != n) continue;
        double q = out["engines"][lib]["selectivity"][sel_s]["qps"];
        if (q > best) {
          best = q;
          best_name = lib;
        }
      }
      double ratio = best > 0 ? ours / best : 0;
      out["ratios"][sel_s] = {{"savoir_qps", ours}, {"best_library", best_name}, {"best_library_qps", best}, {"ratio", ratio}};
      std::printf("  %-6s savoir %8.0f  best %-8s %8.0f  ratio %.2fx\n", sel_s, ours, best_name.c_str(), best, ratio);
    }
  }
  std::filesystem::remove_all(tmp);
  std::string dump = out.dump(2);
  if (!json_path.empty()) {
    std::ofstream(json_path) << dump << "\n";
    std::printf("\nJSON written to %s\n", json_path.c_str());
  } else {
    std::printf("\n%s\n", dump.c_str());
  }
  return 0;
}
