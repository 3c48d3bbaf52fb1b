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
#include <map>
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

std::string OnlyFile(const std::string& dir, const std::string& prefix) {
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return e.path().string();
  return "";
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
  // What an interrupted commit leaves: bytes appended past the committed
  // lengths, next-epoch and graph files, a manifest temp.
  for (const char* prefix : {"vectors-", "ids-", "dead-"}) {
    std::ofstream(OnlyFile(dir.path(), prefix), std::ios::app | std::ios::binary) << "half-appended garbage";
  }
  for (const char* name : {"vectors-2.dat", "ids-2.dat", "graph-9.bin", "MANIFEST.tmp"}) {
    std::ofstream(dir / name) << "half-written garbage";
  }
  auto index = MustOpen(dir.path(), Opts(dims));
  ASSERT_TRUE(index);
  EXPECT_EQ(index->size(), 200u);
  EXPECT_TRUE(index->Contains(ids[199]));
  EXPECT_FALSE(index->Contains(ids[200]));
  // And the next commit works over the leftovers (appends at the committed
  // lengths, deletes the strays).
  ASSERT_TRUE(index->Add({ids[250]}, std::vector<float>(data.begin() + 250 * dims, data.begin() + 251 * dims)).ok());
  ASSERT_TRUE(index->Commit().ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "MANIFEST.tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir / "vectors-2.dat"));
  EXPECT_FALSE(std::filesystem::exists(dir / "graph-9.bin"));
  auto reopened = MustOpen(dir.path(), Opts(dims));
  EXPECT_EQ(reopened->size(), 201u);
  auto top = reopened->SearchExact(&data[250 * dims], 1, nullptr);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].id, ids[250]);
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
    ASSERT_TRUE(index->Remove({ids[3], ids[7], ids[11]}).ok());  // tombstones
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
  for (const char* prefix : {"vectors-", "ids-", "dead-", "graph-", "MANIFEST"}) {
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
  damage("dead-", [](const std::string& f) { std::filesystem::remove(f); });
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

// ---- Incremental commits, crash states, compaction.

using Snapshot = std::map<std::string, std::string>;  // file name -> bytes

Snapshot Snap(const std::string& dir) {
  Snapshot s;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    s[e.path().filename().string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return s;
}

void Lay(const std::string& dir, const Snapshot& s) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) std::filesystem::remove(e.path());
  for (const auto& [name, bytes] : s) std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

// What a state answers: its live ids (among `universe`) and exact top-5
// lists for a few queries.
struct Fingerprint {
  std::set<int64_t> live;
  std::vector<std::vector<int64_t>> top;
  bool operator==(const Fingerprint& o) const { return live == o.live && top == o.top; }
};

Fingerprint Print(const VectorIndex& index, const std::vector<int64_t>& universe, const std::vector<float>& queries,
                  int dims) {
  Fingerprint f;
  for (int64_t id : universe)
    if (index.Contains(id)) f.live.insert(id);
  for (size_t q = 0; q * dims < queries.size(); ++q) {
    std::vector<int64_t> ids;
    auto hits = index.SearchExact(&queries[q * dims], 5, nullptr);
    if (hits.ok())
      for (const auto& h : *hits) ids.push_back(h.id);
    f.top.push_back(ids);
  }
  return f;
}

// Every way a crash (or a torn write) can leave the folder between the
// committed state `a` and the next one `b`: the files of `b` present, absent
// or cut short, under either manifest. Opening must give exactly A or B, or
// kCorrupt — never another state; and a commit after reopening A works.
void CheckCrashStates(const Snapshot& a, const Snapshot& b, const Fingerprint& fa, const Fingerprint& fb,
                      const std::vector<int64_t>& universe, const std::vector<float>& queries, int dims,
                      const std::vector<float>& extra_vector) {
  std::set<std::string> names;
  for (const auto& [n, _] : a) names.insert(n);
  for (const auto& [n, _] : b) names.insert(n);
  names.erase("MANIFEST");
  size_t states = 0, as_a = 0, as_b = 0, corrupt = 0;
  auto check = [&](const Snapshot& s, const char* want, const std::string& what) {
    TempDir dir;
    Lay(dir.path(), s);
    ++states;
    auto r = VectorIndex::Open(dir.path(), Opts(0));
    if (!r.ok()) {
      EXPECT_EQ(r.status().kind(), ErrorKind::kCorrupt) << what << ": " << r.status().ToString();
      EXPECT_STRNE(want, "A") << what << ": the committed state A must open: " << r.status().ToString();
      ++corrupt;
      return;
    }
    Fingerprint f = Print(**r, universe, queries, dims);
    bool is_a = f == fa, is_b = f == fb;
    EXPECT_TRUE(is_a || is_b) << what << ": opened as a state that was never committed";
    if (std::string(want) == "A") {
      EXPECT_TRUE(is_a) << what;
    }
    if (std::string(want) == "B") {
      EXPECT_TRUE(is_b) << what;
    }
    as_a += is_a;
    as_b += is_b && !is_a;
    if (is_a && std::string(want) == "A") {
      // The writer goes on from A over the leftovers.
      ASSERT_TRUE((*r)->Add({999999}, extra_vector).ok()) << what;
      ASSERT_TRUE((*r)->Commit().ok()) << what;
      r->reset();
      auto again = VectorIndex::Open(dir.path(), Opts(0));
      ASSERT_TRUE(again.ok()) << what << ": " << again.status().ToString();
      Fingerprint g = Print(**again, universe, {}, dims);
      std::set<int64_t> want_live = fa.live;
      EXPECT_EQ(g.live, want_live) << what;
      EXPECT_TRUE((*again)->Contains(999999)) << what;
      EXPECT_EQ((*again)->size(), fa.live.size() + 1) << what;
    }
  };
  // Crash before the manifest rename: manifest A, each of B's files at any
  // length from A's to B's (or absent when new), the others fully written.
  for (const std::string& name : names) {
    const std::string* in_a = a.count(name) ? &a.at(name) : nullptr;
    const std::string* in_b = b.count(name) ? &b.at(name) : nullptr;
    if (!in_b) continue;
    std::vector<size_t> cuts;
    size_t lo = in_a && in_b->compare(0, in_a->size(), *in_a) == 0 ? in_a->size() : 0;
    for (size_t c : {lo, lo + 1, lo + (in_b->size() - lo) / 3, lo + 2 * (in_b->size() - lo) / 3, in_b->size()})
      if (c <= in_b->size()) cuts.push_back(c);
    for (size_t cut : cuts) {
      Snapshot s = b;
      for (const auto& [n, bytes] : a) s[n] = a.count(n) && !b.count(n) ? bytes : s[n];  // old files not yet deleted
      s["MANIFEST"] = a.at("MANIFEST");
      if (in_a && lo == 0 && cut == 0) s[name] = *in_a;  // rewritten file not yet replaced
      else s[name] = in_b->substr(0, cut);
      check(s, "A", "manifest A, " + name + " cut at " + std::to_string(cut));
    }
  }
  {
    Snapshot s = a;  // the temp manifest written, not renamed
    for (const auto& [n, bytes] : b)
      if (n != "MANIFEST") s[n] = bytes;
    s["MANIFEST.tmp"] = b.at("MANIFEST");
    check(s, "A", "manifest A with B's MANIFEST.tmp");
  }
  // After the rename: B, with or without the files B no longer names.
  Snapshot both = b;
  for (const auto& [n, bytes] : a)
    if (!b.count(n)) both[n] = bytes;
  check(b, "B", "manifest B");
  check(both, "B", "manifest B, old files still there");
  // Damage under manifest B (a lost or torn write): kCorrupt, never a wrong state.
  for (const auto& [name, bytes] : b) {
    if (name == "MANIFEST" || bytes.empty()) continue;
    Snapshot s = both;
    s[name] = bytes.substr(0, bytes.size() - 1);
    check(s, "?", "manifest B, " + name + " one byte short");
    s[name] = bytes;
    s[name][bytes.size() / 2] ^= 0x20;
    check(s, "?", "manifest B, " + name + " one byte flipped");
  }
  // Damage inside what manifest A names (below the appended part): kCorrupt.
  for (const auto& [name, bytes] : a) {
    if (name == "MANIFEST" || bytes.size() < 2) continue;
    Snapshot s = a;
    s[name][bytes.size() / 2] ^= 0x20;
    check(s, "?", "manifest A, " + name + " flipped");
  }
  EXPECT_GT(as_a, 0u);
  EXPECT_GT(as_b, 0u);
  EXPECT_GT(corrupt, 0u);
  std::printf("crash states: %zu checked, %zu opened as A, %zu as B, %zu kCorrupt\n", states, as_a, as_b, corrupt);
}

TEST(VectorIndex, IncrementalCommitsSurviveACrashAtAnyStep) {
  const int dims = 16;
  const size_t n = 1600;
  auto data = Clustered(n + 8, dims, 31);
  auto ids = Ids(n + 8);
  std::vector<float> queries(data.begin() + n * dims, data.end());
  std::vector<int64_t> universe = ids;
  std::vector<float> extra(data.begin() + 5 * dims, data.begin() + 6 * dims);
  TempDir dir;
  auto index = MustOpen(dir.path(), Opts(dims));
  ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin(), ids.begin() + 1200),
                         std::vector<float>(data.begin(), data.begin() + 1200 * dims)).ok());
  ASSERT_TRUE(index->Commit().ok());
  Snapshot s1 = Snap(dir.path());
  Fingerprint f1 = Print(*index, universe, queries, dims);

  // An incremental commit: appends (new ids and replacements) and tombstones.
  ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin() + 1200, ids.begin() + 1300),
                         std::vector<float>(data.begin() + 1200 * dims, data.begin() + 1300 * dims)).ok());
  ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin(), ids.begin() + 20),
                         std::vector<float>(data.begin() + 1400 * dims, data.begin() + 1420 * dims)).ok());
  ASSERT_TRUE(index->Remove(std::vector<int64_t>(ids.begin() + 100, ids.begin() + 130)).ok());
  ASSERT_TRUE(index->Commit().ok());
  Snapshot s2 = Snap(dir.path());
  Fingerprint f2 = Print(*index, universe, queries, dims);
  EXPECT_EQ(index->Stats().epoch, 1u) << "an incremental commit stays in its epoch";
  for (const char* f : {"vectors-1.dat", "ids-1.dat", "dead-1.dat"}) {
    ASSERT_TRUE(s1.count(f) && s2.count(f)) << f;
    EXPECT_EQ(s2[f].compare(0, s1[f].size(), s1[f]), 0) << f << " was rewritten, not appended to";
    EXPECT_GT(s2[f].size(), s1[f].size()) << f;
  }
  ASSERT_FALSE(f1 == f2);
  CheckCrashStates(s1, s2, f1, f2, universe, queries, dims, extra);

  // Past 25 % dead slots a commit starts a compaction (an incremental commit
  // meanwhile); adopting it writes a new epoch that replaces the files.
  std::vector<int64_t> gone(ids.begin() + 300, ids.begin() + 900);
  ASSERT_TRUE(index->Remove(gone).ok());
  ASSERT_TRUE(index->Commit().ok());
  EXPECT_TRUE(index->Stats().compacting);
  EXPECT_EQ(index->Stats().epoch, 1u);
  Snapshot s2b = Snap(dir.path());
  Fingerprint f2b = Print(*index, universe, queries, dims);
  // A change made while it builds, adopted with it (uncommitted until then).
  ASSERT_TRUE(index->Remove(std::vector<int64_t>(ids.begin() + 1000, ids.begin() + 1040)).ok());
  ASSERT_TRUE(index->FinishCompaction().ok());
  Snapshot s3 = Snap(dir.path());
  Fingerprint f3 = Print(*index, universe, queries, dims);
  EXPECT_FALSE(index->Stats().compacting);
  EXPECT_EQ(index->Stats().epoch, 2u);
  EXPECT_EQ(index->Stats().dead, 40u) << "removed after the copy: tombstones of the new epoch";
  EXPECT_FALSE(s3.count("vectors-1.dat"));
  CheckCrashStates(s2b, s3, f2b, f3, universe, queries, dims, extra);
}

TEST(VectorIndex, ReopenedIndexScansSlotsTheGraphFileLacks) {
  const int dims = 24;
  const size_t n = 3000;
  auto data = Clustered(n + 20, dims, 41);
  auto ids = Ids(n + 20);
  TempDir dir;
  {
    auto index = MustOpen(dir.path(), Opts(dims));
    ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin(), ids.begin() + n),
                           std::vector<float>(data.begin(), data.begin() + n * dims)).ok());
    ASSERT_TRUE(index->Commit().ok());
    // 20 more: under graph_lag_share (5 %), so the graph file is not rewritten.
    ASSERT_TRUE(index->Add(std::vector<int64_t>(ids.begin() + n, ids.end()),
                           std::vector<float>(data.begin() + n * dims, data.end())).ok());
    ASSERT_TRUE(index->Commit().ok());
  }
  auto index = MustOpen(dir.path(), Opts(dims));
  auto st = index->Stats();
  EXPECT_EQ(st.slots, n + 20);
  EXPECT_EQ(st.graph_slots, n);
  for (size_t i = n; i < n + 20; ++i) {
    auto top = index->Search(&data[i * dims], 1, nullptr);  // the graph path (3,020 vectors, no filter)
    ASSERT_TRUE(top.ok());
    ASSERT_EQ(top->size(), 1u);
    EXPECT_EQ((*top)[0].id, ids[i]);
  }
  // The first change links the missing slots into the (now in-memory) graph.
  ASSERT_TRUE(index->Remove({ids[0]}).ok());
  ASSERT_TRUE(index->Add({ids[0]}, std::vector<float>(data.begin(), data.begin() + dims)).ok());
  EXPECT_EQ(index->Stats().graph_slots, n + 21);
}

TEST(VectorIndex, AddRemoveCyclesStayBoundedOnDiskAndInMemoryWithRecall) {
  const int dims = 32;
  const size_t live = 2000, cycles = 24, churn = 250;
  // One pool of vectors; ids are reused with other vectors over the cycles.
  auto pool = Clustered(20000, dims, 51, 40);
  auto queries = Clustered(40, dims, 52, 40);
  std::mt19937 rng(9);
  std::map<int64_t, size_t> current;  // id -> pool row
  size_t next_row = 0;
  int64_t next_id = 1;
  TempDir dir;
  auto options = Opts(dims);
  options.compact_threads = 2;  // the parallel graph build (slots re-laid in add order)
  auto index = MustOpen(dir.path(), options);
  auto add = [&](std::vector<int64_t> idv) {
    std::vector<float> v;
    for (int64_t id : idv) {
      size_t row = next_row++ % 20000;
      current[id] = row;
      v.insert(v.end(), pool.begin() + row * dims, pool.begin() + (row + 1) * dims);
    }
    ASSERT_TRUE(index->Add(idv, v).ok());
  };
  std::vector<int64_t> first;
  for (size_t i = 0; i < live; ++i) first.push_back(next_id++);
  add(first);
  ASSERT_TRUE(index->Commit().ok());
  const VectorIndexStats start = index->Stats();
  VectorIndexStats peak = start;
  for (size_t c = 0; c < cycles; ++c) {
    std::vector<int64_t> have;
    for (const auto& [id, _] : current) have.push_back(id);
    std::shuffle(have.begin(), have.end(), rng);
    std::vector<int64_t> removed(have.begin(), have.begin() + churn);
    ASSERT_TRUE(index->Remove(removed).ok());
    for (int64_t id : removed) current.erase(id);
    std::vector<int64_t> added, replaced(have.begin() + churn, have.begin() + churn + churn / 2);
    for (size_t i = 0; i < churn; ++i) added.push_back(next_id++);
    add(added);
    add(replaced);  // same ids, new vectors
    ASSERT_TRUE(index->Commit().ok());
    if (index->Stats().compacting) {
      ASSERT_TRUE(index->FinishCompaction().ok());
    }
    auto st = index->Stats();
    ASSERT_EQ(st.live, live);
    // A compaction starts at commit once dead slots pass 25 % (adopted at
    // once here): slots <= live / 0.75.
    EXPECT_LE(st.slots, static_cast<size_t>(live / 0.75) + 1) << "cycle " << c;
    peak.slots = std::max(peak.slots, st.slots);
    peak.disk_bytes = std::max(peak.disk_bytes, st.disk_bytes);
    peak.memory_bytes = std::max(peak.memory_bytes, st.memory_bytes);
  }
  auto end = index->Stats();
  EXPECT_GE(end.compactions, 2u);
  // Without compaction the slots would reach live + cycles * 1.5 * churn (5x).
  EXPECT_LE(peak.disk_bytes, start.disk_bytes * 3 / 2) << "disk grows with churn";
  EXPECT_LE(peak.memory_bytes, start.memory_bytes * 2) << "memory grows with churn";
  std::printf("churn: start %zu slots, %llu B disk, %llu B heap; peak %zu slots, %llu B disk, %llu B heap; %zu compactions\n",
              start.slots, (unsigned long long)start.disk_bytes, (unsigned long long)start.memory_bytes, peak.slots,
              (unsigned long long)peak.disk_bytes, (unsigned long long)peak.memory_bytes, end.compactions);

  // Recall against an exact float scan of what is live, now and after reopening.
  std::vector<int64_t> live_ids;
  std::vector<float> live_data;
  for (const auto& [id, row] : current) {
    live_ids.push_back(id);
    live_data.insert(live_data.end(), pool.begin() + row * dims, pool.begin() + (row + 1) * dims);
  }
  auto recall = [&](const VectorIndex& idx, const Roaring* filter) {
    size_t found = 0, expected = 0;
    for (size_t q = 0; q < 40; ++q) {
      auto want = ExactTopK(live_data, live_ids, dims, &queries[q * dims], 10, filter);
      auto got = idx.Search(&queries[q * dims], 10, filter);
      EXPECT_TRUE(got.ok());
      std::set<int64_t> w(want.begin(), want.end());
      for (const auto& h : *got) {
        EXPECT_TRUE(current.count(h.id)) << "removed id " << h.id << " returned";
        found += w.count(h.id);
      }
      expected += want.size();
    }
    return double(found) / expected;
  };
  Roaring tenth;
  for (int64_t id : live_ids)
    if (id % 10 == 3) tenth.add(static_cast<uint32_t>(id));
  EXPECT_GE(recall(*index, nullptr), 0.95);
  EXPECT_GE(recall(*index, &tenth), 0.95);
  index.reset();
  auto reopened = MustOpen(dir.path(), Opts(dims));
  EXPECT_EQ(reopened->size(), live);
  EXPECT_GE(recall(*reopened, nullptr), 0.95);
  EXPECT_GE(recall(*reopened, &tenth), 0.95);
}

// A compaction builds its graph on a thread of its own: meanwhile the index
// serves, adds, removes and commits, and adopting it keeps every change made
// since its copy (committed or not): the removed stay removed, the added and
// replaced are found, with their new vectors.
TEST(VectorIndex, BackgroundCompactionKeepsTheChangesMadeWhileItBuilds) {
  const int dims = 32;
  const size_t n = 6000;
  auto data = Clustered(n + 1000, dims, 61);
  auto ids = Ids(n + 1000);
  std::map<int64_t, size_t> current;  // id -> row of data
  TempDir dir;
  auto index = MustOpen(dir.path(), Opts(dims));
  auto put = [&](size_t id_from, size_t id_to, size_t row_from) {
    std::vector<int64_t> idv;
    std::vector<float> v;
    for (size_t i = id_from; i < id_to; ++i) {
      size_t row = row_from + (i - id_from);
      idv.push_back(ids[i]);
      v.insert(v.end(), data.begin() + row * dims, data.begin() + (row + 1) * dims);
      current[ids[i]] = row;
    }
    ASSERT_TRUE(index->Add(idv, v).ok());
  };
  auto drop = [&](size_t id_from, size_t id_to) {
    std::vector<int64_t> idv(ids.begin() + id_from, ids.begin() + id_to);
    for (int64_t id : idv) current.erase(id);
    ASSERT_TRUE(index->Remove(idv).ok());
  };
  put(0, n, 0);
  ASSERT_TRUE(index->Commit().ok());

  Roaring allowed;
  for (size_t i = 0; i < n + 1000; i += 5) allowed.add(static_cast<uint32_t>(ids[i]));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      for (size_t qi = t; !stop.load(); qi += 2) {
        const Roaring* filter = qi % 2 ? &allowed : nullptr;
        auto got = index->Search(&data[(qi % n) * dims], 10, filter);
        if (!got.ok() || got->size() != 10) {
          ++bad;
        } else {
          for (const VectorHit& h : *got)
            if (filter && !filter->contains(static_cast<uint32_t>(h.id))) ++bad;
        }
        ++searches;
      }
    });
  }

  drop(0, 2000);  // a third of the slots: the commit starts a compaction
  ASSERT_TRUE(index->Commit().ok());
  EXPECT_TRUE(index->Stats().compacting);
  EXPECT_EQ(index->Stats().compactions, 0u);
  // Changes while it builds: removals of copied slots, new ids, replaced ids
  // (their copied slot dies, a new one is added), removed ids added back.
  drop(2000, 2100);
  put(n, n + 500, n);
  put(3000, 3100, n + 500);
  put(0, 50, n + 600);
  ASSERT_TRUE(index->Commit().ok());  // incremental, or adopting if the build is done
  drop(n, n + 50);                    // added after the copy, removed again
  drop(4000, 4010);
  put(4100, 4110, n + 700);
  ASSERT_TRUE(index->FinishCompaction().ok());  // adopts with the uncommitted changes too
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(searches.load(), 0);

  auto check = [&](const VectorIndex& idx, const char* when) {
    auto st = idx.Stats();
    EXPECT_FALSE(st.compacting) << when;
    EXPECT_EQ(st.live, current.size()) << when;
    EXPECT_EQ(st.slots, st.live + st.dead) << when;
    EXPECT_LE(st.slots, current.size() + 300) << when << ": the removed slots were not compacted away";
    for (size_t i = 0; i < n + 1000; ++i) ASSERT_EQ(idx.Contains(ids[i]), current.count(ids[i]) > 0) << when << " id " << ids[i];
    size_t graph_found = 0;
    for (const auto& [id, row] : current) {
      auto exact = idx.SearchExact(&data[row * dims], 1, nullptr);
      ASSERT_TRUE(exact.ok());
      ASSERT_EQ(exact->size(), 1u);
      ASSERT_EQ((*exact)[0].id, id) << when << ": id " << id << " lost its vector";
      auto graph = idx.Search(&data[row * dims], 1, nullptr);
      ASSERT_TRUE(graph.ok());
      graph_found += !graph->empty() && (*graph)[0].id == id;
    }
    EXPECT_GE(graph_found, current.size() * 99 / 100) << when << ": the new graph misses vectors";
  };
  EXPECT_EQ(index->Stats().compactions, 1u);
  EXPECT_EQ(index->Stats().epoch, 2u);
  check(*index, "after adopting");
  index.reset();
  auto reopened = MustOpen(dir.path(), Opts(dims));
  check(*reopened, "reopened");
}

// A compaction abandoned (the index closed while it builds) has written
// nothing: the directory holds the committed state, which reopens, and the
// next commit past the threshold starts another.
TEST(VectorIndex, AnAbandonedCompactionLeavesTheCommittedState) {
  const int dims = 32;
  const size_t n = 8000;
  auto data = Clustered(n, dims, 71);
  auto ids = Ids(n);
  TempDir dir;
  {
    auto index = MustOpen(dir.path(), Opts(dims));
    ASSERT_TRUE(index->Add(ids, data).ok());
    ASSERT_TRUE(index->Commit().ok());
    ASSERT_TRUE(index->Remove(std::vector<int64_t>(ids.begin(), ids.begin() + n / 2)).ok());
    ASSERT_TRUE(index->Commit().ok());
    EXPECT_TRUE(index->Stats().compacting);
  }  // closed at once: the build (4,000 vectors) is abandoned
  std::set<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files.insert(e.path().filename().string());
  EXPECT_EQ(files.count("vectors-2.dat"), 0u) << "an abandoned compaction wrote its epoch";
  auto index = MustOpen(dir.path(), Opts(dims));
  EXPECT_EQ(index->size(), n / 2);
  EXPECT_EQ(index->Stats().epoch, 1u);
  EXPECT_FALSE(index->Contains(ids[0]));
  EXPECT_TRUE(index->Contains(ids[n - 1]));
  ASSERT_TRUE(index->Add({ids[0]}, std::vector<float>(data.begin(), data.begin() + dims)).ok());
  ASSERT_TRUE(index->Commit().ok());
  EXPECT_TRUE(index->Stats().compacting);
  ASSERT_TRUE(index->FinishCompaction().ok());
  EXPECT_EQ(index->Stats().epoch, 2u);
  EXPECT_EQ(index->Stats().dead, 0u);
  EXPECT_EQ(index->size(), n / 2 + 1);
}

}  // namespace
}  // namespace savoir
