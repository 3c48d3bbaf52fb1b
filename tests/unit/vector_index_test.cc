// VectorIndex: recall against an exact float scan on clustered data at several
// selectivities, the permission filter, persistence and crash atomicity,
// corrupt files, dimension checks, and searches running alongside a writer.
#include "index/vector_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "test_util.h"

namespace savoir {
namespace {

using savoir::testing::TempDir;

// Gaussian clusters on the unit sphere (what embeddings look like), fixed seed.
std::vector<float> Clustered(size_t n, int dims, uint32_t seed, int clusters = 50) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> centers(static_cast<size_t>(clusters) * dims);
  for (float& c : centers) c = g(rng);
  std::vector<float> out(n * dims);
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  for (size_t i = 0; i < n; ++i) {
    int c = pick(rng);
    double norm = 0;
    for (int j = 0; j < dims; ++j) {
      float x = centers[static_cast<size_t>(c) * dims + j] + 0.6f * g(rng);
      out[i * dims + j] = x;
      norm += double(x) * x;
    }
    for (int j = 0; j < dims; ++j) out[i * dims + j] /= static_cast<float>(std::sqrt(norm));
  }
  return out;
}

std::vector<int64_t> Ids(size_t n, int64_t start = 0) {
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = start + static_cast<int64_t>(i) * 3 + 1;  // sparse ids
  return ids;
}

// Exact top-k over float vectors (the reference).
std::vector<int64_t> ExactTopK(const std::vector<float>& data, const std::vector<int64_t>& ids, int dims,
                               const float* q, size_t k, const Roaring* allowed) {
  std::vector<std::pair<float, int64_t>> all;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (allowed && !allowed->contains(static_cast<uint32_t>(ids[i]))) continue;
    float s = 0;
    for (int j = 0; j < dims; ++j) s += data[i * dims + j] * q[j];
    all.push_back({-s, ids[i]});
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> out;
  for (size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(all[i].second);
  return out;
}

std::unique_ptr<VectorIndex> MustOpen(const std::string& dir, VectorIndexOptions o) {
  auto r = VectorIndex::Open(dir, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r.value()) : nullptr;
}

VectorIndexOptions Opts(int dims, const std::string& quant = "f16") {
  VectorIndexOptions o;
  o.dimensions = dims;
  o.quantization = quant;
  return o;
}

TEST(VectorIndex, RecallAgainstExactAtSelectivities) {
  const int dims = 64;
  const size_t n = 6000;
  // Queries come from the same distribution as the data (held out).
  auto all = Clustered(n + 60, dims, 7);
  std::vector<float> data(all.begin(), all.begin() + n * dims);
  std::vector<float> queries(all.begin() + n * dims, all.end());
  auto ids = Ids(n);
  for (const char* quant : {"f16", "i8", "f32"}) {
    TempDir dir;
    auto index = MustOpen(dir.path(), Opts(dims, quant));
    ASSERT_TRUE(index);
    ASSERT_TRUE(index->Add(ids, data).ok());
    ASSERT_TRUE(index->Commit().ok());
    EXPECT_EQ(index->size(), n);
    std::mt19937 rng(3);
    for (double sel : {1.0, 0.1, 0.01, 0.001}) {
      Roaring allowed;
      for (int64_t id : ids)
        if (std::uniform_real_distribution<double>(0, 1)(rng) < sel) allowed.add(static_cast<uint32_t>(id));
      const Roaring* filter = sel == 1.0 ? nullptr : &allowed;
      size_t found = 0, expected = 0;
      for (size_t qi = 0; qi < 60; ++qi) {
        const float* q = &queries[qi * dims];
        auto want = ExactTopK(data, ids, dims, q, 10, filter);
        auto got = index->Search(q, 10, filter);
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        std::set<int64_t> w(want.begin(), want.end());
        for (const VectorHit& h : *got) {
          if (filter) {
            EXPECT_TRUE(filter->contains(static_cast<uint32_t>(h.id))) << "disallowed id " << h.id;
          }
          found += w.count(h.id);
        }
        for (size_t i = 1; i < got->size(); ++i) EXPECT_GE((*got)[i - 1].score, (*got)[i].score);
        expected += want.size();
      }
      double recall = expected ? double(found) / expected : 1.0;
      EXPECT_GE(recall, std::string(quant) == "i8" ? 0.90 : 0.95) << quant << " at selectivity " << sel;
    }
  }
}

TEST(VectorIndex, FilterNeverReturnsDisallowedIds) {
  const int dims = 32;
  const size_t n = 3000;
  auto data = Clustered(n, dims, 11);
  auto ids = Ids(n);
  TempDir dir;
  auto index = MustOpen(dir.path(), Opts(dims));
  ASSERT_TRUE(index->Add(ids, data).ok());
  std::mt19937 rng(5);
  for (double sel : {0.5, 0.2, 0.05, 0.01, 0.002, 0.0}) {
    Roaring allowed;
    for (int64_t id : ids)
      if (std::uniform_real_distribution<double>(0, 1)(rng) < sel) allowed.add(static_cast<uint32_t>(id));
    allowed.add(999999999);  // an allowed id that is not indexed
    for (int qi = 0; qi < 20; ++qi) {
      auto got = index->Search(&data[(qi * 37 % n) * dims], 20, &allowed);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(got->size(), std::min<size_t>(20, allowed.cardinality() - 1));
      for (const VectorHit& h : *got) EXPECT_TRUE(allowed.contains(static_cast<uint32_t>(h.id)));
    }
  }
}

TEST(VectorIndex, PersistenceRoundTripAndReplaceRemove) {
  const int dims = 48;
  const size_t n = 2000;
  auto data = Clustered(n, dims, 21);
  auto ids = Ids(n);
  TempDir dir;
  std::vector<std::vector<VectorHit>> before;
  {
    auto index = MustOpen(dir.path(), Opts(dims));
    ASSERT_TRUE(index->Add(ids, data).ok());
    ASSERT_TRUE(index->Commit().ok());
    // Replace the first 10 vectors by the vectors of ids 100..109, remove 10 more.
    std::vector<int64_t> rid(ids.begin(), ids.begin() + 10);
    std::vector<float> rv(data.begin() + 100 * dims, data.begin() + 110 * dims);
    ASSERT_TRUE(index->Add(rid, rv).ok());
    ASSERT_TRUE(index->Remove(std::vector<int64_t>(ids.begin() + 10, ids.begin() + 20)).ok());
    EXPECT_EQ(index->size(), n - 10);
    EXPECT_FALSE(index->Contains(ids[15]));
    EXPECT_TRUE(index->Contains(ids[5]));
    ASSERT_TRUE(index->Commit().ok());
    for (int qi = 0; qi < 10; ++qi) before.push_back(*index->Search(&data[(100 + qi) * dims], 5, nullptr));
    // The replaced id 0 now sits where id 100 is: both at similarity ~1.
    auto top = *index->Search(&data[100 * dims], 2, nullptr);
    std::set<int64_t> got{top[0].id, top[1].id};
    EXPECT_EQ(got, (std::set<int64_t>{ids[0], ids[100]}));
  }
  auto index = MustOpen(dir.path(), Opts(dims));
  ASSERT_TRUE(index);
  EXPECT_EQ(index->size(), n - 10);
  EXPECT_FALSE(index->Contains(ids[15]));
  for (int qi = 0; qi < 10; ++qi) {
    auto after = *index->Search(&data[(100 + qi) * dims], 5, nullptr);
    ASSERT_EQ(after.size(), before[qi].size());
    for (size_t i = 0; i < after.size(); ++i) {
      EXPECT_EQ(after[i].id, before[qi][i].id);
      EXPECT_FLOAT_EQ(after[i].score, before[qi][i].score);
    }
  }
  // Dimensions are optional on reopen (0 = as stored).
  EXPECT_TRUE(VectorIndex::Open(dir.path(), Opts(0)).ok());
}

TEST(VectorIndex, UncommittedChangesAndInterruptedCommitFilesAreIgnored) {
  const int dims = 16;
  auto data = Clustered(300, dims, 4);
  auto ids = Ids(300);
  TempDir dir;
  {
    auto index = MustOpen(dir.path(), Opts(dims));
    ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin(), ids.begin() + 200),
                           std::vector<float>(data.begin(), data.begin() + 200 * dims)).ok());
    ASSERT_TRUE(index->Commit().ok());
    // Not committed: lost on "crash".
    ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin() + 200, ids.end()),
                           std::vector<float>(data.begin() + 200 * dims, data.end())).ok());
  }
  // What an interrupted commit leaves: next-generation files and a manifest temp.
  for (const char* name : {"vectors-2.bin", "graph-2.bin", "MANIFEST.tmp"}) {
    std::ofstream(dir / name) << "half-written garbage";
  }
  auto index = MustOpen(dir.path(), Opts(dims));
  ASSERT_TRUE(index);
  EXPECT_EQ(index->size(), 200u);
  EXPECT_TRUE(index->Contains(ids[199]));
  EXPECT_FALSE(index->Contains(ids[200]));
  EXPECT_FALSE(std::filesystem::exists(dir / "MANIFEST.tmp"));
  // And the next commit works over the leftovers.
  ASSERT_TRUE(index->Add({ids[250]}, std::vector<float>(data.begin() + 250 * dims, data.begin() + 251 * dims)).ok());
  ASSERT_TRUE(index->Commit().ok());
  EXPECT_EQ(MustOpen(dir.path(), Opts(dims))->size(), 201u);
}

std::string OnlyFile(const std::string& dir, const std::string& prefix) {
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return e.path().string();
  return "";
}

TEST(VectorIndex, CorruptOrTruncatedFilesAreReportedNotCrashing) {
  const int dims = 24;
  auto data = Clustered(500, dims, 8);
  auto ids = Ids(500);
  TempDir base;
  {
    auto index = MustOpen(base.path(), Opts(dims));
    ASSERT_TRUE(index->Add(ids, data).ok());
    ASSERT_TRUE(index->Commit().ok());
  }
  auto damage = [&](const std::string& prefix, auto&& fn) {
    TempDir dir;
    for (const auto& e : std::filesystem::directory_iterator(base.path()))
      std::filesystem::copy_file(e.path(), dir / e.path().filename().string());
    std::string file = OnlyFile(dir.path(), prefix);
    EXPECT_FALSE(file.empty()) << prefix;
    fn(file);
    auto r = VectorIndex::Open(dir.path(), Opts(dims));
    EXPECT_FALSE(r.ok()) << prefix;
    if (!r.ok()) {
      EXPECT_EQ(r.status().kind(), ErrorKind::kCorrupt) << r.status().ToString();
    }
  };
  for (const char* prefix : {"vectors-", "graph-", "MANIFEST"}) {
    damage(prefix, [](const std::string& f) {  // truncated
      std::filesystem::resize_file(f, std::filesystem::file_size(f) / 2);
    });
    damage(prefix, [](const std::string& f) {  // one byte flipped in the middle
      std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
      auto size = std::filesystem::file_size(f);
      io.seekg(size / 2);
      char c;
      io.get(c);
      io.seekp(size / 2);
      io.put(static_cast<char>(c ^ 0x5a));
    });
    damage(prefix, [](const std::string& f) { std::filesystem::resize_file(f, 0); });
  }
  damage("vectors-", [](const std::string& f) { std::filesystem::remove(f); });
}

TEST(VectorIndex, DimensionAndInputChecks) {
  TempDir dir;
  {
    auto index = MustOpen(dir.path(), Opts(8));
    EXPECT_EQ(index->Add({1}, std::vector<float>(7, 0.5f)).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(index->Add({-1}, std::vector<float>(8, 0.5f)).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(index->Add({int64_t{1} << 32}, std::vector<float>(8, 0.5f)).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(index->Add({1}, std::vector<float>(8, 0.0f)).kind(), ErrorKind::kInvalidArgument);
    std::vector<float> nan(8, 0.5f);
    nan[3] = std::nanf("");
    EXPECT_EQ(index->Add({1}, nan).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(index->size(), 0u);  // nothing half-applied
    ASSERT_TRUE(index->Add({1, 2}, std::vector<float>(16, 0.5f)).ok());
    ASSERT_TRUE(index->Commit().ok());
  }
  auto r = VectorIndex::Open(dir.path(), Opts(16));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument);
  TempDir fresh;
  EXPECT_EQ(VectorIndex::Open(fresh.path(), Opts(0)).status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(VectorIndex::Open(fresh.path(), Opts(8, "f8")).status().kind(), ErrorKind::kInvalidArgument);
}

TEST(VectorIndex, ConcurrentSearchesDuringAddsRemovesAndCommits) {
  const int dims = 32;
  const size_t n = 4000;
  auto data = Clustered(n, dims, 31);
  auto ids = Ids(n);
  TempDir dir;
  auto index = MustOpen(dir.path(), Opts(dims));
  ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin(), ids.begin() + 500),
                         std::vector<float>(data.begin(), data.begin() + 500 * dims)).ok());
  Roaring allowed;
  for (size_t i = 0; i < n; i += 7) allowed.add(static_cast<uint32_t>(ids[i]));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      size_t qi = t;
      while (!done.load()) {
        const Roaring* filter = (qi % 3 == 0) ? nullptr : &allowed;
        auto got = index->Search(&data[(qi % n) * dims], 10, filter);
        if (!got.ok()) ++bad;
        else
          for (const VectorHit& h : *got)
            if (filter && !filter->contains(static_cast<uint32_t>(h.id))) ++bad;
        ++searches;
        qi += 3;
      }
    });
  }
  for (size_t start = 500; start < n; start += 250) {
    ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin() + start, ids.begin() + start + 250),
                           std::vector<float>(data.begin() + start * dims, data.begin() + (start + 250) * dims)).ok());
    ASSERT_TRUE(index->Remove({ids[start - 100]}).ok());
    if (start % 1000 == 0) {
      ASSERT_TRUE(index->Commit().ok());
    }
  }
  ASSERT_TRUE(index->Commit().ok());
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(index->size(), n - 14);
}

}  // namespace
}  // namespace savoir
