// Keyword index tests: MaxScore/filtered traversal must return exactly what
// an exhaustive BM25 over the same live, allowed chunks returns — across
// segments, deletions, merges and reopening.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>

#include "index/bm25.h"
#include "index/keyword_index.h"
#include "retrieve/permission_filter.h"
#include "test_util.h"

namespace savoir {
namespace {

struct Corpus {
  std::map<int64_t, IndexedChunk> chunks;  // chunk id -> chunk
  std::set<int64_t> deleted_docs;
};

IndexedChunk RandomChunk(std::mt19937& rng, int64_t id) {
  std::uniform_int_distribution<int> len(1, 80);
  // Zipf-like vocabulary so some posting lists are long and some short.
  std::uniform_real_distribution<double> u(0, 1);
  IndexedChunk c;
  c.chunk_id = id;
  c.doc_id = id / 2;  // two chunks per document
  c.updated_at = 1700000000 + id;
  int n = len(rng);
  for (int i = 0; i < n; ++i) c.terms.push_back("t" + std::to_string(static_cast<int>(std::pow(400.0, u(rng)))));
  if (u(rng) < 0.3) c.facets.push_back("acl:public");
  c.facets.push_back("acl:group:g" + std::to_string(id % 10));
  c.facets.push_back(std::string("lang:") + (id % 3 ? "en" : "fr"));
  return c;
}

std::vector<ChunkHit> BruteForce(const Corpus& corpus, const Snapshot& snap, const std::vector<QueryTerm>& q,
                                 const std::function<bool(const IndexedChunk&)>& allowed, const Bm25Params& p,
                                 size_t k) {
  double N = static_cast<double>(snap.live_docs), avgdl = snap.avg_len();
  std::map<std::string, float> w;
  for (const auto& t : q) w[t.term] += t.weight;
  std::vector<ChunkHit> all;
  for (const auto& [id, c] : corpus.chunks) {
    if (corpus.deleted_docs.count(c.doc_id) || !allowed(c)) continue;
    std::map<std::string, int> tf;
    for (const auto& t : c.terms) ++tf[t];
    double score = 0;
    bool any = false;
    for (const auto& [term, weight] : w) {
      auto it = tf.find(term);
      if (it == tf.end()) continue;
      any = true;
      double df = std::min(N, static_cast<double>(snap.DocFreq(term)));
      double idf = std::log(1.0 + (N - df + 0.5) / (df + 0.5));
      double dl = static_cast<double>(c.terms.size());
      score += weight * idf * it->second * (p.k1 + 1) / (it->second + p.k1 * (1 - p.b + p.b * dl / avgdl));
    }
    if (any) all.push_back(ChunkHit{static_cast<float>(score), id, c.doc_id, c.updated_at});
  }
  std::sort(all.begin(), all.end(), [](const ChunkHit& a, const ChunkHit& b) {
    return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

void ExpectSameRanking(const std::vector<ChunkHit>& got, const std::vector<ChunkHit>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].score, want[i].score, 1e-3 * std::max(1.0f, want[i].score)) << "rank " << i;
    // Ids must match unless the scores tie (float summation order may differ).
    if (i + 1 < want.size() && std::abs(want[i].score - want[i + 1].score) > 1e-3 &&
        (i == 0 || std::abs(want[i].score - want[i - 1].score) > 1e-3)) {
      EXPECT_EQ(got[i].chunk_id, want[i].chunk_id) << "rank " << i;
    }
  }
}

class IndexTest : public ::testing::Test {
 protected:
  void Build(int n_chunks, int batches) {
    auto idx = KeywordIndex::Open(dir_ / "index");
    ASSERT_TRUE(idx.ok()) << idx.status().ToString();
    index_ = std::move(idx).value();
    std::mt19937 rng(42);
    int64_t id = 1;
    for (int b = 0; b < batches; ++b) {
      std::vector<IndexedChunk> batch;
      for (int i = 0; i < n_chunks / batches; ++i, ++id) {
        batch.push_back(RandomChunk(rng, id));
        corpus_.chunks[id] = batch.back();
      }
      ASSERT_TRUE(index_->Commit(batch, {}, b + 1).ok());
    }
  }
  std::vector<std::vector<QueryTerm>> Queries(int n) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> len(1, 8), term(1, 120);
    std::vector<std::vector<QueryTerm>> out;
    for (int i = 0; i < n; ++i) {
      std::vector<QueryTerm> q;
      for (int j = len(rng); j > 0; --j) q.push_back({"t" + std::to_string(term(rng)), 1.0f});
      out.push_back(q);
    }
    return out;
  }
  void CheckAll(const DocSelector* sel, const std::function<bool(const IndexedChunk&)>& allowed, size_t k) {
    auto snap = index_->snapshot();
    for (const auto& q : Queries(60)) {
      auto got = SearchBm25(*snap, q, sel, params_, k);
      auto want = BruteForce(corpus_, *snap, q, allowed, params_, k);
      ExpectSameRanking(got, want);
      if (::testing::Test::HasFailure()) return;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<KeywordIndex> index_;
  Corpus corpus_;
  Bm25Params params_{0.9f, 0.7f};
};

TEST_F(IndexTest, MaxScoreEqualsExhaustiveAcrossSegments) {
  Build(3000, 3);
  EXPECT_EQ(index_->snapshot()->segments.size(), 3u);
  CheckAll(nullptr, [](const IndexedChunk&) { return true; }, 10);
  CheckAll(nullptr, [](const IndexedChunk&) { return true; }, 100);
}

TEST_F(IndexTest, DeletionsMergesAndReopenKeepResultsExact) {
  Build(3000, 4);
  std::vector<int64_t> removed;
  for (int64_t d = 0; d < 1500; d += 7) removed.push_back(d), corpus_.deleted_docs.insert(d);
  ASSERT_TRUE(index_->Commit({}, removed, 10).ok());
  CheckAll(nullptr, [](const IndexedChunk&) { return true; }, 10);
  ASSERT_TRUE(index_->MergeAll().ok());
  EXPECT_EQ(index_->snapshot()->segments.size(), 1u);
  EXPECT_EQ(index_->Stats().deleted_chunks, 0u);
  CheckAll(nullptr, [](const IndexedChunk&) { return true; }, 10);
  index_.reset();
  index_ = KeywordIndex::Open(dir_ / "index").value();
  EXPECT_EQ(index_->applied_seq(), 10);
  CheckAll(nullptr, [](const IndexedChunk&) { return true; }, 10);
}

TEST_F(IndexTest, PermissionFilterIsExactAndNeverLeaks) {
  Build(3000, 3);
  std::vector<int64_t> removed = {3, 50, 51, 700};
  for (auto d : removed) corpus_.deleted_docs.insert(d);
  ASSERT_TRUE(index_->Commit({}, removed, 5).ok());
  Principal alice{"alice", {"g3"}, false};
  PermissionFilter filter(alice, {});
  auto allowed = [](const IndexedChunk& c) {
    return std::count(c.facets.begin(), c.facets.end(), "acl:public") ||
           std::count(c.facets.begin(), c.facets.end(), "acl:group:g3");
  };
  CheckAll(&filter, allowed, 10);
  // Narrow filter (one group, no public) plus language: still exact.
  Principal bob{"bob", {"g7"}, true};
  SearchFilters only_fr;
  only_fr.languages = {"fr"};
  PermissionFilter fr_filter(bob, only_fr);
  CheckAll(&fr_filter, [](const IndexedChunk& c) { return c.chunk_id % 3 == 0; }, 10);
}

// Many equal scores (identical chunks) and a long list of a common term:
// the search must still fill k slots, with the same scores as brute force,
// whichever way it traverses the lists.
TEST_F(IndexTest, TiedScoresStillFillTheTopK) {
  auto idx = KeywordIndex::Open(dir_ / "index");
  ASSERT_TRUE(idx.ok());
  index_ = std::move(idx).value();
  std::vector<IndexedChunk> batch;
  for (int64_t id = 1; id <= 3000; ++id) {
    IndexedChunk c;
    c.chunk_id = c.doc_id = id;
    c.terms = {"common", "filler", id % 500 == 0 ? "rare" : "other", id % 7 == 0 ? "seven" : "filler"};
    c.facets = {"acl:public"};
    batch.push_back(c);
    corpus_.chunks[id] = c;
  }
  ASSERT_TRUE(index_->Commit(batch, {}, 1).ok());
  auto snap = index_->snapshot();
  const std::vector<std::vector<QueryTerm>> queries = {
      {{"common", 1.0f}}, {{"rare", 1.0f}, {"common", 1.0f}}, {{"seven", 1.0f}, {"common", 1.0f}, {"filler", 0.5f}}};
  for (size_t k : {1u, 10u, 28u, 100u}) {
    for (const auto& q : queries) {
      auto got = SearchBm25(*snap, q, nullptr, params_, k);
      auto want = BruteForce(corpus_, *snap, q, [](const IndexedChunk&) { return true; }, params_, k);
      ASSERT_EQ(got.size(), k);
      ExpectSameRanking(got, want);
    }
  }
}

TEST_F(IndexTest, BackgroundMergeKeepsSegmentCountBounded) {
  auto idx = KeywordIndex::Open(dir_ / "index");
  ASSERT_TRUE(idx.ok());
  index_ = std::move(idx).value();
  index_->StartBackgroundMerges();
  std::mt19937 rng(1);
  for (int b = 0; b < 30; ++b) {
    std::vector<IndexedChunk> batch;
    for (int i = 0; i < 20; ++i) {
      int64_t id = b * 20 + i + 1;
      batch.push_back(RandomChunk(rng, id));
      corpus_.chunks[id] = batch.back();
    }
    ASSERT_TRUE(index_->Commit(batch, {}, b + 1).ok());
  }
  index_->StopBackgroundMerges();
  ASSERT_TRUE(index_->MaybeMerge().ok());
  EXPECT_LE(index_->snapshot()->segments.size(), 8u);
  EXPECT_EQ(index_->snapshot()->live_docs, 600u);
  CheckAll(nullptr, [](const IndexedChunk&) { return true; }, 10);
}

// Commits build large batches in slices on several threads and append them:
// the file must be byte for byte what one writer makes of the whole batch.
TEST(Segment, SlicesAppendedEqualOneWriter) {
  testing::TempDir dir;
  std::mt19937 rng(7);
  std::vector<IndexedChunk> chunks;
  for (int64_t id = 1; id <= 3000; ++id) chunks.push_back(RandomChunk(rng, id));
  SegmentWriter whole;
  for (const auto& c : chunks) whole.Add(c);
  SegmentWriter a, b, c3;
  for (size_t i = 0; i < chunks.size(); ++i) (i < 1000 ? a : i < 1700 ? b : c3).Add(chunks[i]);
  ASSERT_TRUE(whole.Write(dir / "whole").ok());
  ASSERT_TRUE(SegmentWriter::WriteParts({&a, &b, &c3}, dir / "sliced").ok());
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string w = read(dir / "whole"), s = read(dir / "sliced");
  EXPECT_GT(w.size(), 1000u);
  EXPECT_TRUE(w == s) << "sizes " << w.size() << " vs " << s.size();
}

// Past 8,192 terms the dictionary is encoded in ranges on several threads
// (blocks close at range ends), from slices or from one writer: every term,
// its postings and its lookup must come out the same either way.
TEST(Segment, ManyTermsEncodedInRangesReadTheSame) {
  testing::TempDir dir;
  std::mt19937 rng(11);
  std::vector<IndexedChunk> chunks;
  for (int64_t id = 1; id <= 6000; ++id) {
    IndexedChunk c = RandomChunk(rng, id);
    for (int i = 0; i < 15; ++i) c.terms.push_back("u" + std::to_string(rng() % 200000));  // mostly seen once
    c.terms.push_back(std::string(300, 'a' + static_cast<char>(id % 26)) + std::to_string(id % 7));  // long shared prefixes
    chunks.push_back(std::move(c));
  }
  SegmentWriter whole, a, b, c3;
  for (size_t i = 0; i < chunks.size(); ++i) {
    whole.Add(chunks[i]);
    (i < 2500 ? a : i < 4000 ? b : c3).Add(chunks[i]);
  }
  ASSERT_TRUE(whole.Write(dir / "whole").ok());
  ASSERT_TRUE(SegmentWriter::WriteParts({&a, &b, &c3}, dir / "sliced").ok());
  auto w = Segment::Open(dir / "whole");
  auto s = Segment::Open(dir / "sliced");
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_GT((*w)->n_terms(), 65536u);
  ASSERT_EQ((*w)->n_terms(), (*s)->n_terms());
  auto postings = [](const Segment& seg, const TermInfo& info) {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (PostingCursor c = seg.Postings(info); c.doc() != PostingCursor::kEnd; c.Next()) out.emplace_back(c.doc(), c.freq());
    return out;
  };
  auto it = (*w)->Terms();
  auto jt = (*s)->Terms();
  std::string prev;
  uint64_t n = 0;
  for (; it.Valid() && jt.Valid(); it.Next(), jt.Next(), ++n) {
    ASSERT_EQ(it.term(), jt.term());
    if (n > 0) {
      ASSERT_LT(prev, std::string(it.term()));
    }
    prev = std::string(it.term());
    auto pw = postings(**w, it.info());
    ASSERT_EQ(pw, postings(**s, jt.info())) << it.term();
    ASSERT_EQ(pw.size(), it.info().df);
    if (n % 97 == 0) {
      auto found = (*s)->Find(it.term());
      ASSERT_TRUE(found.has_value()) << it.term();
      EXPECT_EQ(postings(**s, *found), pw);
      std::string missing = std::string(it.term()) + "\x01";
      EXPECT_FALSE((*s)->Find(missing).has_value());
    }
  }
  EXPECT_FALSE(it.Valid());
  EXPECT_FALSE(jt.Valid());
  EXPECT_EQ(n, (*w)->n_terms());
  EXPECT_FALSE((*s)->Find("").has_value());
  EXPECT_FALSE((*s)->Find("zzzzzzzz").has_value());
}

// FindIndexed (binary search on in-memory block heads) answers as Find does,
// for every term, for absent terms between them, and for terms that share
// their first 8 bytes (where heads tie and whole terms are compared).
TEST(Segment, FindIndexedAnswersAsFind) {
  testing::TempDir dir;
  std::mt19937 rng(5);
  SegmentWriter writer;
  for (int64_t id = 1; id <= 3000; ++id) {
    IndexedChunk c = RandomChunk(rng, id);
    for (int i = 0; i < 8; ++i) c.terms.push_back("w" + std::to_string(rng() % 50000));
    c.terms.push_back("sharedprefix" + std::to_string(rng() % 500));  // heads tie
    c.terms.push_back(std::string(1 + id % 9, 'q'));                   // shorter than 8 bytes, prefixes of each other
    writer.Add(c);
  }
  ASSERT_TRUE(writer.Write(dir / "seg").ok());
  auto seg = Segment::Open(dir / "seg");
  ASSERT_TRUE(seg.ok()) << seg.status().message();
  const Segment& s = **seg;
  auto same = [&](std::string_view t) {
    auto a = s.Find(t), b = s.FindIndexed(t);
    ASSERT_EQ(a.has_value(), b.has_value()) << t;
    if (!a) return;
    EXPECT_EQ(a->df, b->df) << t;
    EXPECT_EQ(a->postings, b->postings) << t;
    EXPECT_EQ(a->max_tf, b->max_tf) << t;
    EXPECT_EQ(a->min_len, b->min_len) << t;
  };
  uint64_t n = 0;
  for (auto it = s.Terms(); it.Valid(); it.Next(), ++n) {
    const std::string t(it.term());
    ASSERT_TRUE(s.FindIndexed(t).has_value()) << t;
    same(t);
    same(t + "\x01");
    same(t.substr(0, t.size() - 1));
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_EQ(n, s.n_terms());
  for (std::string_view t : {"", "\x01", "a", "sharedprefix", "sharedprefix9999", "zzzzzzzzzz", "w", "\xff\xff"}) same(t);
}

TEST(Segment, RejectsGarbageFiles) {
  testing::TempDir dir;
  std::string p = dir / "seg_000001";
  FILE* f = fopen(p.c_str(), "w");
  fputs("not a segment at all, but long enough to hold a header..................................................................................................................", f);
  fclose(f);
  auto s = Segment::Open(p);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().kind(), ErrorKind::kCorrupt);
}

}  // namespace
}  // namespace savoir
