// The embedding pipeline (catch-up, cache, crash, model switch) and hybrid
// retrieval (fusion math, the permission filter inside the vector search,
// the reranker). Embeddings come from a deterministic test embedder (hashed
// bag of words); the vector index is the product's (VectorIndex::Open) and,
// where a test needs to inject failures, a wrapper around it.
#include "retrieve/hybrid.h"

#include <gtest/gtest.h>

#include <fstream>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/file.h"
#include "embed/pipeline.h"
#include "index/analyzer.h"
#include "ingest/index_builder.h"
#include "ingest/ingestor.h"
#include "test_util.h"

namespace savoir {
namespace {

namespace fs = std::filesystem;
using savoir::testing::TempDir;

std::string ReadFileForTest(const std::string& path) {
  auto r = ReadFile(path);
  EXPECT_TRUE(r.ok()) << path;
  return r.ok() ? *r : "";
}
void WriteFileForTest(const std::string& path, const std::string& data) {
  ASSERT_TRUE(WriteFileAtomic(path, data).ok()) << path;
}

// Hashed bag of lower-cased words -> unit vector. Texts sharing words are
// close; the test double counts what it is asked to embed.
class BagEmbedder final : public Embedder {
 public:
  explicit BagEmbedder(std::string id = "test:bag", int dims = 512, size_t batch = 4)
      : id_(std::move(id)), dims_(dims), batch_(batch) {}
  std::string model_id() const override { return id_; }
  int dimensions() const override { return dims_; }
  size_t max_batch() const override { return batch_; }
  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts, EmbedKind kind) override {
    if (fail) return Status(ErrorKind::kUnavailable, "test embedder told to fail");
    if (texts.size() > batch_) return Status(ErrorKind::kInvalidArgument, "batch too large");
    ++calls;
    if (kind == EmbedKind::kPassage) passages += texts.size();
    std::vector<std::vector<float>> out;
    for (const auto& t : texts) {
      std::vector<float> v(dims_, 0.f);
      std::string w;
      auto flush = [&] {
        if (w.empty()) return;
        size_t h = std::hash<std::string>()(w + id_);  // a different model, a different space
        v[h % dims_] += 1.f;
        w.clear();
      };
      for (char c : t) {
        if (std::isalnum(static_cast<unsigned char>(c))) w.push_back(static_cast<char>(std::tolower(c)));
        else flush();
      }
      flush();
      double n = 0;
      for (float x : v) n += x * x;
      if (n == 0) v[0] = 1, n = 1;
      for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
      out.push_back(std::move(v));
    }
    return out;
  }
  std::atomic<size_t> calls{0}, passages{0};
  std::atomic<bool> fail{false};

 private:
  std::string id_;
  int dims_;
  size_t batch_;
};

// Wraps the real index to fail a commit on demand (a crash between
// embedding and commit) and to record what Search was given.
class SpyIndex final : public VectorIndex {
 public:
  explicit SpyIndex(std::unique_ptr<VectorIndex> inner) : inner_(std::move(inner)) {}
  Status Add(const std::vector<int64_t>& ids, const std::vector<float>& v) override { return inner_->Add(ids, v); }
  Status Remove(const std::vector<int64_t>& ids) override { return inner_->Remove(ids); }
  Status Commit() override {
    if (fail_commit && *fail_commit) return Status(ErrorKind::kIo, "simulated crash before commit");
    return inner_->Commit();
  }
  Status FinishCompaction() override { return inner_->FinishCompaction(); }
  Result<std::vector<VectorHit>> Search(const float* q, size_t k, const Roaring* allowed) const override {
    if (searches) {
      searches->push_back(allowed ? std::optional<Roaring>(*allowed) : std::nullopt);
    }
    return inner_->Search(q, k, allowed);
  }
  size_t size() const override { return inner_->size(); }
  int dimensions() const override { return inner_->dimensions(); }
  bool Contains(int64_t id) const override { return inner_->Contains(id); }

  std::shared_ptr<std::atomic<bool>> fail_commit;
  std::shared_ptr<std::vector<std::optional<Roaring>>> searches;

 private:
  std::unique_ptr<VectorIndex> inner_;
};

struct Spy {
  std::shared_ptr<std::atomic<bool>> fail_commit = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::vector<std::optional<Roaring>>> searches =
      std::make_shared<std::vector<std::optional<Roaring>>>();
  EmbedPipelineOptions Options() const {
    EmbedPipelineOptions o;
    auto fc = fail_commit;
    auto se = searches;
    o.opener = [fc, se](const std::string& dir, const VectorIndexOptions& io) -> Result<std::unique_ptr<VectorIndex>> {
      SAVOIR_ASSIGN_OR_RETURN(auto inner, VectorIndex::Open(dir, io));
      auto spy = std::make_unique<SpyIndex>(std::move(inner));
      spy->fail_commit = fc;
      spy->searches = se;
      return std::unique_ptr<VectorIndex>(std::move(spy));
    };
    return o;
  }
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenSqliteStore(dir_ / "savoir.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    source_ = *store_->EnsureSource("files", "test");
    ingest_.chunker.max_tokens = 12;  // several chunks per longer document
  }

  int64_t Put(const std::string& ext, const std::string& title, const std::string& text,
              AccessList acl = {"public"}) {
    SourceDocument d;
    d.external_id = ext;
    d.parsed.title = title;
    d.parsed.text = text;
    d.parsed.format = "text";
    d.acl = std::move(acl);
    EXPECT_TRUE(IngestDocument(*store_, source_, d, ingest_).ok());
    return Id(ext);
  }
  // Documents d0 .. d<n-1>, one chunk each, five topics.
  void PutNumbered(int n) {
    for (int i = 0; i < n; ++i)
      Put("d" + std::to_string(i), "Doc " + std::to_string(i),
          "Text number " + std::to_string(i) + " about topic " + std::to_string(i % 5) + " and more words here.");
  }
  void DeleteNumbered(int from, int to) {
    for (int i = from; i < to; ++i) ASSERT_TRUE(store_->DeleteDocument(Id("d" + std::to_string(i))).ok());
  }
  int64_t Id(const std::string& ext) {
    auto d = store_->FindDocument(source_, ext);
    return d.ok() && *d ? (*d)->id : 0;
  }

  std::set<int64_t> StoreChunkIds() {
    std::set<int64_t> out;
    auto ids = store_->AllDocumentIds();
    for (int64_t id : *ids) {
      auto chunks = store_->GetChunks(id);
      for (const auto& c : *chunks) out.insert(c.id);
    }
    return out;
  }

  // The index holds exactly the store's chunks.
  void ExpectInStep(const VectorSpace& space) {
    std::set<int64_t> ids = StoreChunkIds();
    EXPECT_EQ(space.size(), ids.size());
    for (int64_t id : ids) EXPECT_TRUE(space.index().Contains(id)) << "chunk " << id;
    EXPECT_EQ(space.applied_seq(), *store_->LastChangeSeq());
  }

  Result<std::unique_ptr<EmbeddingPipeline>> OpenPipeline(std::shared_ptr<Embedder> e,
                                                          const EmbedPipelineOptions& o = {},
                                                          EmbedderFromSpec from_spec = nullptr) {
    return EmbeddingPipeline::Open(dir_ / "vectors", std::move(e), e ? "{\"id\":\"" + e->model_id() + "\"}" : "{}",
                                   from_spec, o);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  int64_t source_ = 0;
  IngestOptions ingest_;
};

TEST_F(PipelineTest, CatchUpEmbedsOnceAndFollowsUpdatesAndDeletions) {
  Put("a", "Holidays", "Paid holidays are twenty five days per year for every employee of the company.");
  Put("b", "Expenses", "Travel expenses are reimbursed within thirty days on presentation of receipts.");
  Put("c", "Payroll", "Salaries are paid on the last working day of each month by bank transfer.");
  auto emb = std::make_shared<BagEmbedder>();
  auto p = OpenPipeline(emb);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->serving(), nullptr);  // nothing serves before the first build completes
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  auto space = (*p)->serving();
  ASSERT_NE(space, nullptr);
  ExpectInStep(*space);
  size_t chunks = StoreChunkIds().size();
  EXPECT_GT(chunks, 3u);
  EXPECT_EQ(emb->passages.load(), chunks);
  EXPECT_GE(emb->calls.load(), (chunks + 3) / 4);  // batches of at most max_batch (Embed refuses more)

  // Nothing changed: nothing embedded, also after reopening.
  size_t calls = emb->calls;
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  p->reset();
  p = OpenPipeline(emb);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_NE((*p)->serving(), nullptr);
  ExpectInStep(*(*p)->serving());
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  EXPECT_EQ(emb->calls.load(), calls);

  // Update: only new chunk texts are embedded; old vectors go.
  size_t passages = emb->passages;
  Put("b", "Expenses", "Travel expenses are reimbursed within thirty days on presentation of receipts. "
                       "Taxis need a manager's approval.");
  Put("c", "Payroll", "Salaries are paid on the last working day of each month by bank transfer.");  // same text
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  ExpectInStep(*(*p)->serving());
  size_t new_texts = emb->passages - passages;
  EXPECT_GE(new_texts, 1u);
  // At most b's chunks (its first chunks' texts are unchanged: cached), none of c's.
  EXPECT_LE(new_texts, store_->GetChunks(Id("b"))->size());
  EXPECT_GT((*p)->serving()->counters().cache_hits, 0u);

  // Deletion.
  int64_t a = Id("a");
  auto a_chunks = *store_->GetChunks(a);
  ASSERT_TRUE(store_->DeleteDocument(a).ok());
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  ExpectInStep(*(*p)->serving());
  for (const auto& c : a_chunks) EXPECT_FALSE((*p)->serving()->index().Contains(c.id));
}

// Deleting a third of the documents makes the commit start a compaction in
// the background; the space goes on serving, and a later catch-up with
// nothing to apply adopts it (what a server's refresh does), or a one-shot
// command waits for it (FinishCompactions).
TEST_F(PipelineTest, ACompactionStartedByACommitIsAdoptedByALaterCatchUp) {
  PutNumbered(30);
  auto emb = std::make_shared<BagEmbedder>();
  auto p = OpenPipeline(emb);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  DeleteNumbered(0, 12);
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  auto space = (*p)->serving();
  ASSERT_NE(space, nullptr);
  EXPECT_TRUE(space->index().Stats().compacting);
  ExpectInStep(*space);
  for (int tries = 0; tries < 500 && space->index().Stats().compacting; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  }
  EXPECT_FALSE(space->index().Stats().compacting);
  EXPECT_EQ(space->index().Stats().compactions, 1u);
  EXPECT_EQ(space->index().Stats().dead, 0u);
  ExpectInStep(*space);

  // Again, adopted by FinishCompactions; then reopened as it was left.
  DeleteNumbered(12, 20);
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  EXPECT_TRUE(space->index().Stats().compacting);
  ASSERT_TRUE((*p)->FinishCompactions().ok());
  EXPECT_FALSE(space->index().Stats().compacting);
  EXPECT_EQ(space->index().Stats().compactions, 2u);
  ExpectInStep(*space);
  p->reset();
  p = OpenPipeline(emb);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExpectInStep(*(*p)->serving());
}

// Two processes on one data folder (two pipelines here): the one that adopts
// a compaction replaces the index's files, and the other, which still has
// the old ones open, must reload before it commits, not append to files that
// are gone. The index stays valid and nothing is embedded again.
TEST_F(PipelineTest, AnotherProcessAdoptingACompactionMakesThisOneReload) {
  PutNumbered(30);
  auto emb = std::make_shared<BagEmbedder>();
  auto server = OpenPipeline(emb);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->CatchUp(*store_).ok());
  DeleteNumbered(0, 12);
  {
    auto cli = OpenPipeline(emb);
    ASSERT_TRUE(cli.ok()) << cli.status().ToString();
    ASSERT_TRUE((*cli)->CatchUp(*store_).ok());
    EXPECT_TRUE((*cli)->serving()->index().Stats().compacting);
    ASSERT_TRUE((*server)->CatchUp(*store_).ok());  // the server picks up that commit (epoch 1)
    ASSERT_TRUE((*cli)->FinishCompactions().ok());
    EXPECT_EQ((*cli)->serving()->index().Stats().epoch, 2u);
  }
  size_t passages = emb->passages;
  Put("n1", "New", "A new document written after the other process compacted the vectors.");
  ASSERT_TRUE((*server)->CatchUp(*store_).ok());
  ExpectInStep(*(*server)->serving());
  EXPECT_EQ((*server)->serving()->index().Stats().epoch, 2u) << "the server did not reload";
  server->reset();
  auto reopened = OpenPipeline(emb);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  ASSERT_TRUE((*reopened)->CatchUp(*store_).ok());
  ExpectInStep(*(*reopened)->serving());
  EXPECT_EQ(emb->passages.load(), passages + store_->GetChunks(Id("n1"))->size()) << "vectors were rebuilt";
}

TEST_F(PipelineTest, RebuildingFromScratchTakesEveryVectorFromTheCache) {
  for (int i = 0; i < 12; ++i)
    Put("d" + std::to_string(i), "Doc " + std::to_string(i), "Text number " + std::to_string(i) + " about topic " +
                                                                  std::to_string(i % 3) + " and more words here.");
  auto emb = std::make_shared<BagEmbedder>();
  {
    auto p = OpenPipeline(emb);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  }
  size_t calls = emb->calls;
  fs::remove_all(dir_ / "vectors");
  auto p = OpenPipeline(emb);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  EXPECT_EQ(emb->calls.load(), calls);
  ExpectInStep(*(*p)->serving());
  EXPECT_EQ((*p)->serving()->counters().cache_hits, StoreChunkIds().size());
}

TEST_F(PipelineTest, ChangingTheVectorStorageRebuildsTheIndexFromTheCache) {
  for (int i = 0; i < 6; ++i)
    Put("d" + std::to_string(i), "Doc " + std::to_string(i), "Text number " + std::to_string(i) + " about topic " +
                                                                  std::to_string(i % 3) + " and more words here.");
  auto emb = std::make_shared<BagEmbedder>();
  auto manifest_storage = [&]() {
    std::string found;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "vectors"))
      if (e.path().filename() == "MANIFEST") {
        std::ifstream in(e.path());
        std::string line;
        while (std::getline(in, line))
          if (line.rfind("quantization ", 0) == 0) found += line.substr(13);
      }
    return found;
  };
  {
    auto p = OpenPipeline(emb);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  }
  EXPECT_EQ(manifest_storage(), "f16");
  size_t calls = emb->calls;
  EmbedPipelineOptions o;
  o.index.quantization = "f32";
  auto p = OpenPipeline(emb, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  EXPECT_EQ(manifest_storage(), "f32");
  EXPECT_EQ(emb->calls.load(), calls);  // every vector from the cache
  ExpectInStep(*(*p)->serving());
}

TEST_F(PipelineTest, CrashBetweenEmbeddingAndCommitLeavesAConsistentState) {
  Put("a", "Alpha", "The first document talks about alpha particles and radiation.");
  auto emb = std::make_shared<BagEmbedder>();
  Spy spy;
  {
    auto p = OpenPipeline(emb, spy.Options());
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  }
  int64_t before = *store_->LastChangeSeq();
  Put("b", "Beta", "The second document is about beta decay in nuclear physics.");
  Put("a", "Alpha", "The first document now talks about alpha helices in proteins instead.");
  size_t passages = emb->passages;
  {
    *spy.fail_commit = true;
    auto p = OpenPipeline(emb, spy.Options());
    ASSERT_TRUE(p.ok());
    Status st = (*p)->CatchUp(*store_);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ((*p)->serving()->applied_seq(), before);  // position not moved past uncommitted vectors
    // The process "dies" here: nothing more is written.
  }
  EXPECT_GT(emb->passages.load(), passages);  // the new texts were embedded (and cached) before the crash
  size_t after_crash = emb->passages;
  *spy.fail_commit = false;
  auto p = OpenPipeline(emb, spy.Options());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->serving()->applied_seq(), before);
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  ExpectInStep(*(*p)->serving());
  EXPECT_EQ(emb->passages.load(), after_crash);  // the replay found everything in the cache
}

TEST_F(PipelineTest, CrashAfterVectorsBeforeStateIsRepairedFromPending) {
  Put("a", "Alpha", "Alpha text about many things in the first document.");
  auto emb = std::make_shared<BagEmbedder>();
  {
    auto p = OpenPipeline(emb);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  }
  // Keep the state of this point, let a later commit land, then put the old
  // state back with a PENDING file naming the later commit's chunks: what a
  // crash between the vector commit and the STATE write leaves.
  std::string vdir;
  for (const auto& e : fs::directory_iterator(dir_ / "vectors"))
    if (e.is_directory()) vdir = e.path();
  auto old_state = ReadFileForTest(vdir + "/STATE");
  int64_t a = Id("a");
  ASSERT_TRUE(store_->DeleteDocument(a).ok());
  Put("b", "Beta", "Beta text, the second document, longer than the first one by a few words.");
  std::string pending;
  {
    auto p = OpenPipeline(emb);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->CatchUp(*store_).ok());
    for (int64_t c : StoreChunkIds()) pending.append(reinterpret_cast<const char*>(&c), 8);
  }
  WriteFileForTest(vdir + "/STATE", old_state);
  WriteFileForTest(vdir + "/PENDING", pending);
  auto p = OpenPipeline(emb);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(fs::exists(vdir + "/PENDING"));
  ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  ExpectInStep(*(*p)->serving());
}

TEST_F(PipelineTest, ANewModelBuildsInTheBackgroundWhileTheOldOneServesThenSwitches) {
  for (int i = 0; i < 20; ++i)
    Put("d" + std::to_string(i), "Doc " + std::to_string(i),
        "Document " + std::to_string(i) + " mentions " + (i == 7 ? "zeppelins and airships" : "ordinary things"));
  auto a = std::make_shared<BagEmbedder>("test:a");
  {
    auto p = OpenPipeline(a);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->CatchUp(*store_).ok());
  }
  std::string a_dir = dir_ / ("vectors/" + SanitizeModelId("test:a"));
  ASSERT_TRUE(fs::exists(a_dir));
  EXPECT_GT(*store_->CountEmbeddings("test:a"), 0);

  auto b = std::make_shared<BagEmbedder>("test:b");
  int specs = 0;
  auto from_spec = [&](const std::string& spec) -> Result<std::unique_ptr<Embedder>> {
    ++specs;
    EXPECT_NE(spec.find("test:a"), std::string::npos);
    return std::unique_ptr<Embedder>(new BagEmbedder("test:a"));
  };
  auto p = OpenPipeline(b, {}, from_spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(specs, 1);
  ASSERT_NE((*p)->serving(), nullptr);
  EXPECT_EQ((*p)->serving()->model_id(), "test:a");
  ASSERT_NE((*p)->building(), nullptr);
  EXPECT_EQ((*p)->building()->model_id(), "test:b");

  // Searches run from another thread while the new model builds: they are
  // served by the old model, and never fail.
  std::atomic<bool> done{false};
  std::atomic<int> served_by_a{0}, failures{0};
  std::thread reader([&] {
    while (!done) {
      auto s = (*p)->serving();
      auto hits = s->Search("zeppelins airships", 3, nullptr);
      if (!hits.ok() || hits->empty()) ++failures;
      else if (s->model_id() == "test:a") ++served_by_a;
    }
  });
  bool mid_checked = false;
  ASSERT_TRUE((*p)->CatchUp(*store_, [&](size_t d, size_t n) {
                    if (d < n && !mid_checked) {
                      mid_checked = true;
                      EXPECT_EQ((*p)->serving()->model_id(), "test:a");
                      EXPECT_TRUE(fs::exists(a_dir));
                    }
                  }).ok());
  done = true;
  reader.join();
  EXPECT_TRUE(mid_checked);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(served_by_a.load(), 0);
  // Switched: B serves, A's folder and cached vectors are gone, CURRENT names B.
  ASSERT_NE((*p)->serving(), nullptr);
  EXPECT_EQ((*p)->serving()->model_id(), "test:b");
  EXPECT_EQ((*p)->building(), nullptr);
  ExpectInStep(*(*p)->serving());
  EXPECT_FALSE(fs::exists(a_dir));
  EXPECT_EQ(*store_->CountEmbeddings("test:a"), 0);
  EXPECT_EQ(ReadFileForTest(dir_ / "vectors/CURRENT"), SanitizeModelId("test:b") + "\n");
  auto hits = (*p)->serving()->Search("zeppelins airships", 1, nullptr);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*store_->GetChunk((*hits)[0].id)).document_id, Id("d7"));
}

// ---------------------------------------------------------------- fusion

std::vector<DocumentHit> List(std::vector<std::pair<int64_t, float>> v) {
  std::vector<DocumentHit> out;
  for (auto [d, s] : v) out.push_back(DocumentHit{d, d * 100, s});
  return out;
}

TEST(FusionTest, ReciprocalRankFusionSumsOneOverKPlusRank) {
  auto kw = List({{1, 9.f}, {2, 5.f}, {3, 1.f}});
  auto dense = List({{3, .9f}, {4, .8f}, {1, .1f}});
  auto fused = FuseRrf(kw, dense, 60, 10);
  ASSERT_EQ(fused.size(), 4u);
  std::map<int64_t, double> score;
  for (const auto& h : fused) score[h.doc_id] = h.score;
  EXPECT_NEAR(score[1], 1.0 / 61 + 1.0 / 63, 1e-7);
  EXPECT_NEAR(score[3], 1.0 / 63 + 1.0 / 61, 1e-7);
  EXPECT_NEAR(score[2], 1.0 / 62, 1e-7);
  EXPECT_NEAR(score[4], 1.0 / 62, 1e-7);
  // 1 and 3 tie (ranks 1+3 each): both ahead of 2 and 4.
  EXPECT_TRUE((fused[0].doc_id == 1 && fused[1].doc_id == 3) || (fused[0].doc_id == 3 && fused[1].doc_id == 1));
  EXPECT_EQ(fused[0].chunk_id, fused[0].doc_id * 100);
  // Truncation and a small k that rewards the top ranks more.
  auto top1 = FuseRrf(kw, List({{2, 1.f}}), 1, 1);
  ASSERT_EQ(top1.size(), 1u);
  EXPECT_EQ(top1[0].doc_id, 2);  // 1/3 + 1/2 beats 1/2
  EXPECT_TRUE(FuseRrf({}, {}, 60, 10).empty());
}

TEST(FusionTest, WeightedFusionNormalizesEachListThenMixes) {
  auto kw = List({{1, 10.f}, {2, 6.f}, {3, 2.f}});       // normalized 1, .5, 0
  auto dense = List({{2, .9f}, {4, .7f}, {1, .4f}});     // normalized 1, .6, 0
  auto fused = FuseWeighted(kw, dense, 0.5, 10);
  std::map<int64_t, double> score;
  for (const auto& h : fused) score[h.doc_id] = h.score;
  EXPECT_NEAR(score[1], 0.5 * 1 + 0.5 * 0, 1e-6);
  EXPECT_NEAR(score[2], 0.5 * .5 + 0.5 * 1, 1e-6);
  EXPECT_NEAR(score[3], 0, 1e-6);
  EXPECT_NEAR(score[4], 0.5 * .6, 1e-6);
  EXPECT_EQ(fused[0].doc_id, 2);
  EXPECT_EQ(fused[1].doc_id, 1);
  // alpha 0: BM25 order; alpha 1: vector order.
  auto bm25_only = FuseWeighted(kw, dense, 0, 3);
  EXPECT_EQ(bm25_only[0].doc_id, 1);
  EXPECT_EQ(bm25_only[1].doc_id, 2);
  auto dense_only = FuseWeighted(kw, dense, 1, 2);
  EXPECT_EQ(dense_only[0].doc_id, 2);
  EXPECT_EQ(dense_only[1].doc_id, 4);
  // A list whose scores are all equal counts fully for each of its documents.
  auto flat = FuseWeighted(List({{5, 3.f}, {6, 3.f}}), {}, 0.5, 10);
  EXPECT_NEAR(flat[0].score, 0.5, 1e-6);
}

// ------------------------------------------------- hybrid search, permissions

class HybridTest : public PipelineTest {
 protected:
  void BuildAll(const EmbedPipelineOptions& o = {}) {
    auto idx = KeywordIndex::Open(dir_ / "index");
    ASSERT_TRUE(idx.ok());
    index_ = std::move(idx).value();
    ASSERT_TRUE(CatchUpIndex(*store_, *index_).ok());
    emb_ = std::make_shared<BagEmbedder>();
    auto p = OpenPipeline(emb_, o);
    ASSERT_TRUE(p.ok());
    pipeline_ = std::move(p).value();
    ASSERT_TRUE(pipeline_->CatchUp(*store_).ok());
    searcher_ = std::make_unique<Searcher>(*index_, SearcherOptions{});
    EmbeddingPipeline* v = pipeline_.get();
    hybrid_ = std::make_unique<HybridSearcher>(
        *searcher_, *index_, *store_, [v]() -> std::shared_ptr<const VectorSpace> { return v->serving(); },
        HybridOptions{});
  }
  std::vector<int64_t> Docs(const std::string& q, const Principal& who, RetrievalMode mode, size_t k = 10) {
    SearchRequest r;
    r.query = q;
    r.principal = who;
    r.k = k;
    auto hits = hybrid_->Search(r, nullptr, mode);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<int64_t> out;
    if (hits.ok())
      for (const auto& h : *hits) out.push_back(h.doc_id);
    return out;
  }
  std::unique_ptr<KeywordIndex> index_;
  std::shared_ptr<BagEmbedder> emb_;
  std::unique_ptr<EmbeddingPipeline> pipeline_;
  std::unique_ptr<Searcher> searcher_;
  std::unique_ptr<HybridSearcher> hybrid_;
};

TEST_F(HybridTest, ARestrictedDocumentNeverReachesAnOutsiderThroughEitherList) {
  Put("pub1", "Canteen", "The canteen menu changes every week with seasonal vegetables.");
  Put("pub2", "Parking", "Parking spaces are assigned by the facilities team each quarter.");
  Put("secret", "Salary grid", "The salary grid for engineers lists every band and bonus.", {"group:hr"});
  Put("secret2", "Salary review", "Salary review salary grid bands bonus engineers.", {"user:carol"});
  Spy spy;
  BuildAll(spy.Options());
  int64_t secret = Id("secret");
  int64_t secret2 = Id("secret2");
  std::set<int64_t> secret_chunks;
  for (int64_t d : {secret, secret2}) {
    auto chunks = store_->GetChunks(d);
    for (const auto& c : *chunks) secret_chunks.insert(c.id);
  }

  Principal outsider;
  outsider.user = "bob";
  for (auto mode : {RetrievalMode::kDense, RetrievalMode::kHybrid, RetrievalMode::kAuto}) {
    spy.searches->clear();
    auto docs = Docs("salary grid bands bonus engineers", outsider, mode);
    for (int64_t d : docs) {
      EXPECT_NE(d, secret);
      EXPECT_NE(d, secret2);
    }
    // The filter went INTO the vector search: an allowed set without the
    // restricted chunks (no post-filtering).
    ASSERT_FALSE(spy.searches->empty());
    for (const auto& allowed : *spy.searches) {
      ASSERT_TRUE(allowed.has_value());
      for (int64_t c : secret_chunks) EXPECT_FALSE(allowed->contains(static_cast<uint32_t>(c)));
      EXPECT_GT(allowed->cardinality(), 0u);
    }
  }
  Principal hr;
  hr.user = "alice";
  hr.groups = {"hr"};
  auto docs = Docs("salary grid bands bonus engineers", hr, RetrievalMode::kDense, 2);
  ASSERT_FALSE(docs.empty());
  EXPECT_EQ(docs[0], secret);
  EXPECT_EQ(std::count(docs.begin(), docs.end(), secret2), 0);
  docs = Docs("salary grid", hr, RetrievalMode::kHybrid);
  EXPECT_EQ(std::count(docs.begin(), docs.end(), secret), 1);

  // All access, no filter: nullptr goes in.
  Principal admin;
  admin.all_access = true;
  spy.searches->clear();
  Docs("salary", admin, RetrievalMode::kDense);
  ASSERT_EQ(spy.searches->size(), 1u);
  EXPECT_FALSE((*spy.searches)[0].has_value());
  // A source filter excludes everything else.
  SearchRequest r;
  r.query = "salary grid";
  r.principal = admin;
  r.filters.sources = {source_ + 1000};
  auto none = hybrid_->Search(r, nullptr, RetrievalMode::kHybrid);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(HybridTest, HybridFindsWhatEitherListFindsAndKeywordModeNeedsNoVectors) {
  Put("k", "Zeppelin", "Airship maintenance schedule.");
  Put("v", "Maintenance", "maintenance maintenance schedule schedule calendar");
  Put("x", "Other", "Nothing related at all in this text.");
  BuildAll();
  Principal who;
  who.all_access = true;
  auto hybrid = Docs("zeppelin maintenance", who, RetrievalMode::kHybrid);
  EXPECT_GE(hybrid.size(), 2u);
  int64_t k = Id("k");
  int64_t v = Id("v");
  EXPECT_EQ(std::count(hybrid.begin(), hybrid.end(), k), 1);
  EXPECT_EQ(std::count(hybrid.begin(), hybrid.end(), v), 1);
  size_t calls = emb_->calls;
  auto bm25 = Docs("zeppelin", who, RetrievalMode::kKeyword);
  EXPECT_EQ(emb_->calls.load(), calls);  // keyword mode embeds nothing
  ASSERT_FALSE(bm25.empty());
  EXPECT_EQ(bm25[0], k);
  // The embedder down: hybrid search still answers (keyword list).
  emb_->fail = true;
  auto degraded = Docs("zeppelin", who, RetrievalMode::kHybrid);
  ASSERT_FALSE(degraded.empty());
  EXPECT_EQ(degraded[0], k);
}

TEST(AllowedChunksTest, MapsSegmentBitmapsToChunkIdsWithoutDeletedOnes) {
  TempDir dir;
  auto idx = KeywordIndex::Open(dir / "index");
  ASSERT_TRUE(idx.ok());
  auto chunk = [](int64_t chunk_id, int64_t doc, std::string acl) {
    IndexedChunk c;
    c.chunk_id = chunk_id;
    c.doc_id = doc;
    c.terms = {"word"};
    c.facets = {"acl:" + acl, "src:1"};
    return c;
  };
  ASSERT_TRUE((*idx)->Commit({chunk(10, 1, "public"), chunk(11, 1, "public"), chunk(20, 2, "group:hr")}, {}, 1).ok());
  ASSERT_TRUE((*idx)->Commit({chunk(30, 3, "public"), chunk(40, 4, "user:bob")}, {}, 2).ok());
  ASSERT_TRUE((*idx)->Commit({}, {3}, 3).ok());  // document 3 deleted
  auto snap = (*idx)->snapshot();
  Principal anon;
  auto a = AllowedChunks(*snap, anon, {});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->cardinality(), 2u);
  EXPECT_TRUE(a->contains(10) && a->contains(11));
  Principal bob;
  bob.user = "bob";
  bob.groups = {"hr"};
  auto b = AllowedChunks(*snap, bob, {});
  EXPECT_EQ(b->cardinality(), 4u);
  EXPECT_TRUE(b->contains(20) && b->contains(40) && !b->contains(30));
  Principal admin;
  admin.all_access = true;
  EXPECT_FALSE(AllowedChunks(*snap, admin, {}).has_value());
  SearchFilters f;
  f.sources = {2};
  EXPECT_EQ(AllowedChunks(*snap, admin, f)->cardinality(), 0u);
}

// ---------------------------------------------------------------- reranker

TEST(RerankerTest, RemoteRerankReordersTheTopCandidates) {
  httplib::Server server;
  std::string seen_body;
  server.Post("/v1/rerank", [&](const httplib::Request& req, httplib::Response& res) {
    seen_body = req.body;
    auto j = nlohmann::json::parse(req.body);
    nlohmann::json results = nlohmann::json::array();
    // Relevance: how often "target" appears in each document.
    const auto& docs = j["documents"];
    for (size_t i = 0; i < docs.size(); ++i) {
      std::string d = docs[i];
      size_t n = 0;
      for (size_t p = d.find("target"); p != std::string::npos; p = d.find("target", p + 1)) ++n;
      results.push_back({{"index", i}, {"relevance_score", static_cast<double>(n)}});
    }
    res.set_content(nlohmann::json{{"results", results}}.dump(), "application/json");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto rr = MakeRemoteReranker("http://127.0.0.1:" + std::to_string(port) + "/v1/rerank", "", "tiny");
  auto scores = rr->Score("q", {"no", "target target", "target"});
  server.stop();
  t.join();
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_EQ(*scores, (std::vector<float>{0.f, 2.f, 1.f}));
  EXPECT_NE(seen_body.find("\"model\":\"tiny\""), std::string::npos);
  // Unreachable endpoint: an error value, not a throw.
  auto down = MakeRemoteReranker("http://127.0.0.1:1/rerank", "", "");
  EXPECT_FALSE(down->Score("q", {"a"}).ok());
}

TEST_F(HybridTest, TheRerankerReordersTheFusedTopAndItsFailureKeepsTheFusedOrder) {
  Put("a", "Apples", "apples apples apples orchard");
  Put("b", "Orchard", "apples orchard with a pear tree, the reranker target");
  Put("c", "Pears", "pears orchard");
  BuildAll();
  httplib::Server server;
  server.Post("/rerank", [&](const httplib::Request& req, httplib::Response& res) {
    auto j = nlohmann::json::parse(req.body);
    nlohmann::json results = nlohmann::json::array();
    for (size_t i = 0; i < j["documents"].size(); ++i)
      results.push_back({{"index", i}, {"relevance_score",
                                        j["documents"][i].get<std::string>().find("target") != std::string::npos ? 5.0 : 0.0}});
    res.set_content(nlohmann::json{{"results", results}}.dump(), "application/json");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto rr = MakeRemoteReranker("http://127.0.0.1:" + std::to_string(port) + "/rerank", "", "");
  EmbeddingPipeline* v = pipeline_.get();
  HybridSearcher reranked(*searcher_, *index_, *store_,
                          [v]() -> std::shared_ptr<const VectorSpace> { return v->serving(); }, HybridOptions{},
                          rr.get());
  SearchRequest r;
  r.query = "apples";
  r.principal.all_access = true;
  r.k = 3;
  auto plain = hybrid_->Search(r, nullptr, RetrievalMode::kHybrid);
  auto hits = reranked.Search(r, nullptr, RetrievalMode::kHybrid);
  server.stop();
  t.join();
  ASSERT_TRUE(plain.ok() && hits.ok());
  ASSERT_FALSE(plain->empty());
  EXPECT_EQ((*plain)[0].doc_id, Id("a"));
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].doc_id, Id("b"));
  EXPECT_EQ(hits->size(), plain->size());
  // The reranker gone: the fused order, not an error.
  auto again = reranked.Search(r, nullptr, RetrievalMode::kHybrid);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), plain->size());
  for (size_t i = 0; i < again->size(); ++i) EXPECT_EQ((*again)[i].doc_id, (*plain)[i].doc_id);
}

// Scores each document by how often "target" appears in it (an in-process
// reranker: the ranking logic, not the transport, is under test here).
class CountingReranker final : public Reranker {
 public:
  std::string name() const override { return "test:count"; }
  Result<std::vector<float>> Score(const std::string&, const std::vector<std::string>& docs) override {
    ++calls;
    seen = docs.size();
    std::vector<float> out;
    for (const auto& d : docs) {
      float n = 0;
      for (size_t p = d.find("target"); p != std::string::npos; p = d.find("target", p + 1)) ++n;
      out.push_back(n);
    }
    return out;
  }
  int calls = 0;
  size_t seen = 0;
};

TEST_F(HybridTest, TheRerankerAlsoReordersTheKeywordOnlyTopBeyondK) {
  Put("a", "Apples", "apples apples apples orchard");
  Put("b", "Apples again", "apples apples orchard");
  Put("c", "Orchard", "apples in an orchard with a pear tree, the reranker target target");
  BuildAll();
  CountingReranker rr;
  HybridSearcher reranked(*searcher_, *index_, *store_, nullptr, HybridOptions{}, &rr);
  SearchRequest r;
  r.query = "apples";
  r.principal.all_access = true;
  r.k = 1;
  auto plain = hybrid_->Search(r, nullptr, RetrievalMode::kKeyword);
  ASSERT_TRUE(plain.ok());
  ASSERT_EQ(plain->size(), 1u);
  EXPECT_NE((*plain)[0].doc_id, Id("c"));  // BM25 alone ranks the repeated "apples" first
  // k = 1, yet the reranker sees the --rerank-top candidates and lifts c.
  auto hits = reranked.Search(r, nullptr, RetrievalMode::kAuto);  // no vectors: keyword
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].doc_id, Id("c"));
  EXPECT_EQ((*hits)[0].score, 2.f);
  EXPECT_EQ(rr.calls, 1);
  EXPECT_EQ(rr.seen, 3u);
  // Hybrid with the embedder down: the keyword list, still reranked.
  EmbeddingPipeline* v = pipeline_.get();
  HybridSearcher hybrid(*searcher_, *index_, *store_,
                        [v]() -> std::shared_ptr<const VectorSpace> { return v->serving(); }, HybridOptions{}, &rr);
  emb_->fail = true;
  auto down = hybrid.Search(r, nullptr, RetrievalMode::kHybrid);
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  ASSERT_EQ(down->size(), 1u);
  EXPECT_EQ((*down)[0].doc_id, Id("c"));
  EXPECT_EQ(rr.calls, 2);
}

}  // namespace
}  // namespace savoir
