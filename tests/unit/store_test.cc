// Store contract tests, written once against the Store interface and run for
// every implementation (SQLite today; PostgreSQL joins the list later).
#include "store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <thread>
#include <functional>

#include "test_util.h"

namespace savoir {
namespace {

using StoreFactory = std::function<Result<std::unique_ptr<Store>>(const std::string& dir)>;

struct NamedFactory {
  std::string name;
  StoreFactory open;
  friend void PrintTo(const NamedFactory& f, std::ostream* os) { *os << f.name; }
};

std::vector<NamedFactory> Factories() {
  return {{"sqlite", [](const std::string& dir) { return OpenSqliteStore(dir + "/savoir.db"); }}};
}

class StoreTest : public ::testing::TestWithParam<NamedFactory> {
 protected:
  void SetUp() override {
    auto s = GetParam().open(dir_.path());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  DocumentRecord Doc(int64_t source, const std::string& ext, const std::string& content,
                     AccessList acl = {"public"}) {
    DocumentRecord d;
    d.source_id = source;
    d.external_id = ext;
    d.title = "Title of " + ext;
    d.content = content;
    d.content_hash = "h-" + content;
    d.acl = std::move(acl);
    return d;
  }
  std::vector<ChunkRecord> Chunks(const std::string& content) {
    ChunkRecord c;
    c.begin = 0;
    c.end = static_cast<uint32_t>(content.size());
    c.language = "en";
    return {c};
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, SourcesAreUniqueByName) {
  auto a = store_->EnsureSource("files", "/docs");
  auto b = store_->EnsureSource("files", "/docs");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  auto c = store_->EnsureSource("slack", "/docs");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.status().kind(), ErrorKind::kAlreadyExists);
}

TEST_P(StoreTest, PutGetReplaceDelete) {
  int64_t src = store_->EnsureSource("files", "/docs").value();
  auto doc = Doc(src, "a.md", "hello world", {"group:hr", "user:alice"});
  auto chunks = Chunks(doc.content);
  ASSERT_TRUE(store_->PutDocument(&doc, &chunks).ok());
  ASSERT_GT(doc.id, 0);
  ASSERT_GT(chunks[0].id, 0);

  auto got = store_->GetDocument(doc.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->content, "hello world");
  EXPECT_EQ(got->acl, (AccessList{"group:hr", "user:alice"}));
  auto found = store_->FindDocument(src, "a.md");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->content_hash, "h-hello world");

  // Replacing keeps the document id, replaces chunks and access list.
  auto doc2 = Doc(src, "a.md", "hello again, world", {"public"});
  auto chunks2 = Chunks(doc2.content);
  chunks2.push_back(chunks2[0]);
  ASSERT_TRUE(store_->PutDocument(&doc2, &chunks2).ok());
  EXPECT_EQ(doc2.id, doc.id);
  EXPECT_EQ(store_->GetChunks(doc.id)->size(), 2u);
  EXPECT_EQ(store_->GetDocument(doc.id)->acl, (AccessList{"public"}));
  EXPECT_FALSE(store_->GetChunk(chunks[0].id).ok());

  ASSERT_TRUE(store_->DeleteDocument(doc.id).ok());
  EXPECT_EQ(store_->GetDocument(doc.id).status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->GetChunks(doc.id)->empty());
  EXPECT_EQ(store_->DeleteDocument(doc.id).kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->Verify().ok());
}

// The batch read answers, element by element, what GetDocument and
// GetChunks answer (the index reads documents this way when it catches up).
TEST_P(StoreTest, DocumentsWithChunksAnswerAsSingleReads) {
  int64_t src = store_->EnsureSource("files", "/docs").value();
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto doc = Doc(src, "d" + std::to_string(i) + ".md", "text number " + std::to_string(i), {"group:g" + std::to_string(i)});
    auto chunks = Chunks(doc.content);
    for (int k = 0; k < i; ++k) chunks.push_back(chunks[0]);
    ASSERT_TRUE(store_->PutDocument(&doc, &chunks).ok());
    ids.push_back(doc.id);
  }
  ASSERT_TRUE(store_->DeleteDocument(ids[2]).ok());
  ids.push_back(987654);  // never existed
  auto got = store_->GetDocumentsWithChunks(ids);
  ASSERT_EQ(got.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto doc = store_->GetDocument(ids[i]);
    if (!doc.ok()) {
      EXPECT_FALSE(got[i].ok()) << i;
      EXPECT_EQ(got[i].status().kind(), ErrorKind::kNotFound) << i;
      continue;
    }
    ASSERT_TRUE(got[i].ok()) << i;
    EXPECT_EQ(got[i]->doc.content, doc->content);
    EXPECT_EQ(got[i]->doc.acl, doc->acl);
    EXPECT_EQ(got[i]->doc.external_id, doc->external_id);
    auto chunks = store_->GetChunks(ids[i]);
    ASSERT_TRUE(chunks.ok());
    ASSERT_EQ(got[i]->chunks.size(), chunks->size());
    for (size_t k = 0; k < chunks->size(); ++k) EXPECT_EQ(got[i]->chunks[k].id, (*chunks)[k].id);
  }
  EXPECT_EQ(got[4]->chunks.size(), 5u);
  EXPECT_TRUE(store_->GetDocumentsWithChunks({}).empty());
}

TEST_P(StoreTest, PassageIsTheChunksBytesWithItsDocument) {
  int64_t src = store_->EnsureSource("files", "/docs").value();
  auto doc = Doc(src, "a.md", "Élodie gère les congés. Fin.");
  std::vector<ChunkRecord> chunks(2);
  chunks[0].begin = 0;
  chunks[0].end = static_cast<uint32_t>(std::string("Élodie gère les congés.").size());
  chunks[1].begin = chunks[0].end + 1;
  chunks[1].end = static_cast<uint32_t>(doc.content.size());
  ASSERT_TRUE(store_->PutDocument(&doc, &chunks).ok());
  auto p = store_->GetPassage(chunks[0].id);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->text, "Élodie gère les congés.");
  EXPECT_EQ(p->doc.id, doc.id);
  EXPECT_EQ(p->doc.title, "Title of a.md");
  EXPECT_TRUE(p->doc.content.empty());
  EXPECT_EQ(store_->GetPassage(chunks[1].id)->text, "Fin.");
  EXPECT_EQ(store_->GetPassage(999999).status().kind(), ErrorKind::kNotFound);
  // A page of hits in one read: in the order asked, a missing chunk in its
  // place, the others as GetPassage answers them.
  auto page = store_->GetPassages({chunks[1].id, 999999, chunks[0].id});
  ASSERT_EQ(page.size(), 3u);
  ASSERT_TRUE(page[0].ok());
  EXPECT_EQ(page[0]->text, "Fin.");
  EXPECT_EQ(page[0]->chunk.id, chunks[1].id);
  EXPECT_EQ(page[1].status().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(page[2].ok());
  EXPECT_EQ(page[2]->text, "Élodie gère les congés.");
  EXPECT_EQ(page[2]->doc.title, "Title of a.md");
  EXPECT_TRUE(store_->GetPassages({}).empty());
  // Inside a write transaction the same reads see its own writes.
  ASSERT_TRUE(store_->InTransaction([&]() -> Status {
                  auto in_tx = store_->GetPassages({chunks[0].id, chunks[1].id});
                  EXPECT_EQ(in_tx.size(), 2u);
                  EXPECT_TRUE(in_tx[0].ok() && in_tx[0]->text == "Élodie gère les congés.");
                  EXPECT_TRUE(in_tx[1].ok() && in_tx[1]->text == "Fin.");
                  return Status::Ok();
                }).ok());
}

TEST_P(StoreTest, ChangeLogRecordsEveryWriteInOrder) {
  int64_t src = store_->EnsureSource("files", "/docs").value();
  auto a = Doc(src, "a", "aaa");
  auto b = Doc(src, "b", "bbb");
  auto ca = Chunks(a.content), cb = Chunks(b.content);
  ASSERT_TRUE(store_->PutDocument(&a, &ca).ok());
  ASSERT_TRUE(store_->PutDocument(&b, &cb).ok());
  ASSERT_TRUE(store_->DeleteDocument(a.id).ok());
  auto changes = store_->ChangesSince(0, 100);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].document_id, a.id);
  EXPECT_FALSE((*changes)[0].deleted);
  EXPECT_EQ((*changes)[2].document_id, a.id);
  EXPECT_TRUE((*changes)[2].deleted);
  EXPECT_EQ(store_->ChangesSince((*changes)[1].seq, 100)->size(), 1u);
  EXPECT_EQ(*store_->LastChangeSeq(), (*changes)[2].seq);
  EXPECT_EQ(*store_->AllDocumentIds(), std::vector<int64_t>{b.id});
}

TEST_P(StoreTest, TransactionRollsBackOnError) {
  int64_t src = store_->EnsureSource("files", "/docs").value();
  Status st = store_->InTransaction([&]() -> Status {
    auto a = Doc(src, "a", "aaa");
    auto ca = Chunks(a.content);
    SAVOIR_RETURN_IF_ERROR(store_->PutDocument(&a, &ca));
    return Status(ErrorKind::kInvalidArgument, "abandon");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(store_->AllDocumentIds()->empty());
}

TEST_P(StoreTest, RejectsBadRecordsWithoutLosingData) {
  int64_t src = store_->EnsureSource("files", "/docs").value();
  auto good = Doc(src, "good", "kept");
  auto cg = Chunks(good.content);
  ASSERT_TRUE(store_->PutDocument(&good, &cg).ok());
  auto no_acl = Doc(src, "x", "text", {});
  auto c1 = Chunks(no_acl.content);
  EXPECT_EQ(store_->PutDocument(&no_acl, &c1).kind(), ErrorKind::kInvalidArgument);
  auto out_of_range = Doc(src, "y", "short");
  auto c2 = Chunks(out_of_range.content);
  c2[0].end = 999;
  EXPECT_FALSE(store_->PutDocument(&out_of_range, &c2).ok());
  EXPECT_EQ(store_->AllDocumentIds()->size(), 1u);
  EXPECT_EQ(store_->GetDocument(good.id)->content, "kept");
}

TEST_P(StoreTest, CheckpointCommitsOrRollsBackWithItsBatch) {
  int64_t src = store_->EnsureSource("slack", "team").value();
  EXPECT_EQ(*store_->GetCheckpoint(src), "");
  ASSERT_TRUE(store_->InTransaction([&]() -> Status {
    auto a = Doc(src, "a", "aaa");
    auto ca = Chunks(a.content);
    SAVOIR_RETURN_IF_ERROR(store_->PutDocument(&a, &ca));
    return store_->SetCheckpoint(src, R"({"pos":1})");
  }).ok());
  EXPECT_EQ(*store_->GetCheckpoint(src), R"({"pos":1})");
  // A failed batch leaves neither its documents nor its checkpoint.
  Status st = store_->InTransaction([&]() -> Status {
    auto b = Doc(src, "b", "bbb");
    auto cb = Chunks(b.content);
    SAVOIR_RETURN_IF_ERROR(store_->PutDocument(&b, &cb));
    SAVOIR_RETURN_IF_ERROR(store_->SetCheckpoint(src, R"({"pos":2})"));
    return Status(ErrorKind::kIo, "killed");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(*store_->GetCheckpoint(src), R"({"pos":1})");
  EXPECT_EQ(store_->ListDocuments(src)->size(), 1u);
}

TEST_P(StoreTest, SyncStatusRoundTripsAndKeepsTheCheckpoint) {
  int64_t src = store_->EnsureSource("slack", "team").value();
  EXPECT_EQ(store_->GetSyncStatus(src)->last_attempt, 0);
  ASSERT_TRUE(store_->SetCheckpoint(src, "cp").ok());
  SyncStatus s;
  s.last_attempt = 100;
  s.last_success = 90;
  s.next_run = 200;
  s.documents_seen = 7;
  s.errors = {"C1: invalid_auth", "two\nlines"};
  ASSERT_TRUE(store_->RecordSyncStatus(src, s).ok());
  auto got = store_->GetSyncStatus(src);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->last_attempt, 100);
  EXPECT_EQ(got->last_success, 90);
  EXPECT_EQ(got->next_run, 200);
  EXPECT_EQ(got->documents_seen, 7);
  EXPECT_EQ(got->errors, (std::vector<std::string>{"C1: invalid_auth", "two lines"}));
  EXPECT_EQ(*store_->GetCheckpoint(src), "cp");
}

TEST_P(StoreTest, AnswerUsageIsAppendedAndListedNewestFirst) {
  EXPECT_TRUE(store_->ListAnswerUsage(10)->empty());
  AnswerUsageRecord a;
  a.model = "qwen2.5:7b";
  a.mode = "model";
  a.prompt_tokens = 812;
  a.completion_tokens = 64;
  a.latency_ms = 1234.5;
  a.first_token_ms = 210.25;
  ASSERT_TRUE(store_->RecordAnswerUsage(&a).ok());
  EXPECT_GT(a.id, 0);
  EXPECT_GT(a.at, 0);
  AnswerUsageRecord b;
  b.model = "qwen2.5:7b";
  b.mode = "extractive";
  b.at = 42;
  b.error = "POST http://127.0.0.1:8081/v1/chat/completions: connection refused";
  ASSERT_TRUE(store_->RecordAnswerUsage(&b).ok());
  auto rows = store_->ListAnswerUsage(10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].id, b.id);
  EXPECT_EQ((*rows)[0].at, 42);
  EXPECT_EQ((*rows)[0].mode, "extractive");
  EXPECT_EQ((*rows)[0].error, b.error);
  EXPECT_EQ((*rows)[1].prompt_tokens, 812);
  EXPECT_EQ((*rows)[1].completion_tokens, 64);
  EXPECT_DOUBLE_EQ((*rows)[1].latency_ms, 1234.5);
  EXPECT_DOUBLE_EQ((*rows)[1].first_token_ms, 210.25);
  EXPECT_EQ(store_->ListAnswerUsage(1)->size(), 1u);
}

TEST_P(StoreTest, DeleteSourceRemovesItsDocumentsAndState) {
  int64_t keep = store_->EnsureSource("files", "/keep").value();
  int64_t gone = store_->EnsureSource("slack", "team").value();
  auto a = Doc(keep, "a", "aaa");
  auto b = Doc(gone, "b", "bbb");
  auto ca = Chunks(a.content), cb = Chunks(b.content);
  ASSERT_TRUE(store_->PutDocument(&a, &ca).ok());
  ASSERT_TRUE(store_->PutDocument(&b, &cb).ok());
  ASSERT_TRUE(store_->SetCheckpoint(gone, "cp").ok());
  ASSERT_TRUE(store_->SetSourceConfig(gone, R"({"x":1})").ok());
  EXPECT_EQ(store_->GetSource(gone)->config_json, R"({"x":1})");
  ASSERT_TRUE(store_->DeleteSource(gone).ok());
  EXPECT_EQ(store_->GetSource(gone).status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(*store_->AllDocumentIds(), std::vector<int64_t>{a.id});
  auto changes = store_->ChangesSince(0, 100);
  EXPECT_TRUE(changes->back().deleted);
  EXPECT_EQ(changes->back().document_id, b.id);
  EXPECT_EQ(store_->DeleteSource(gone).kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->Verify().ok());
  // A new source of the same name starts from scratch.
  int64_t again = store_->EnsureSource("slack", "team").value();
  EXPECT_EQ(*store_->GetCheckpoint(again), "");
}

TEST_P(StoreTest, ItemStatesCommitWithTheirBatchArePrunedByRunAndGoWithTheSource) {
  int64_t src = store_->EnsureSource("web", "site").value();
  int64_t other = store_->EnsureSource("web", "other").value();
  EXPECT_FALSE(store_->GetItemState(src, "https://a/").value().has_value());
  ASSERT_TRUE(store_->InTransaction([&]() -> Status {
    SAVOIR_RETURN_IF_ERROR(store_->PutItemStates(src, 1, {{"https://a/", "A1"}, {"https://b/", "B1"}}));
    SAVOIR_RETURN_IF_ERROR(store_->PutItemStates(other, 1, {{"https://a/", "other"}}));
    return store_->SetCheckpoint(src, R"({"run":1})");
  }).ok());
  EXPECT_EQ(store_->GetItemState(src, "https://a/").value(), std::optional<std::string>("A1"));
  EXPECT_EQ(store_->GetItemState(other, "https://a/").value(), std::optional<std::string>("other"));
  // A failed batch writes no item state.
  EXPECT_FALSE(store_->InTransaction([&]() -> Status {
    SAVOIR_RETURN_IF_ERROR(store_->PutItemStates(src, 2, {{"https://a/", "A2"}}));
    return Status(ErrorKind::kIo, "killed");
  }).ok());
  EXPECT_EQ(store_->GetItemState(src, "https://a/").value(), std::optional<std::string>("A1"));
  // Run 2 touches only /a; pruning before run 2 drops /b, not /a, not the other source's.
  ASSERT_TRUE(store_->PutItemStates(src, 2, {{"https://a/", "A2"}}).ok());
  ASSERT_TRUE(store_->PruneItemStates(src, 2).ok());
  EXPECT_EQ(store_->GetItemState(src, "https://a/").value(), std::optional<std::string>("A2"));
  EXPECT_FALSE(store_->GetItemState(src, "https://b/").value().has_value());
  EXPECT_TRUE(store_->GetItemState(other, "https://a/").value().has_value());
  ASSERT_TRUE(store_->DeleteSource(src).ok());
  EXPECT_FALSE(store_->GetItemState(src, "https://a/").value().has_value());
  EXPECT_TRUE(store_->GetItemState(other, "https://a/").value().has_value());
}

// Searches read passages on many threads while indexing writes: every read
// sees one committed version whole (title and text of the same revision) or
// NotFound for a chunk that was replaced, never a torn or failed read.
TEST_P(StoreTest, ConcurrentReadsDuringWritesSeeWholeVersions) {
  int64_t src = store_->EnsureSource("files", "/docs").value();
  auto make = [&](int rev) {
    auto d = Doc(src, "a.md", "rev-" + std::to_string(rev) + " body text");
    d.title = "T" + std::to_string(rev);
    return d;
  };
  auto doc = make(0);
  auto chunks = Chunks(doc.content);
  ASSERT_TRUE(store_->PutDocument(&doc, &chunks).ok());
  const int64_t doc_id = doc.id;
  std::atomic<int64_t> latest_chunk{chunks[0].id};
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto p = store_->GetPassage(latest_chunk.load());
        if (p.ok()) {
          // "rev-K body text" must come with title "TK".
          std::string rev = p->text.substr(4, p->text.find(' ') - 4);
          if (p->doc.title != "T" + rev || p->doc.id != doc_id) ++bad;
        } else if (p.status().kind() != ErrorKind::kNotFound) {
          ++bad;
        }
        auto d = store_->GetDocument(doc_id);
        if (!d.ok() || d->title != "T" + d->content.substr(4, d->content.find(' ') - 4) ||
            d->acl != AccessList{"public"})
          ++bad;
        ++reads;
      }
    });
  }
  for (int rev = 1; rev <= 200; ++rev) {
    auto d = make(rev);
    auto c = Chunks(d.content);
    ASSERT_TRUE(store_->InTransaction([&] { return store_->PutDocument(&d, &c); }).ok());
    latest_chunk = c[0].id;
  }
  while (reads.load() < 100) std::this_thread::yield();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store_->GetDocument(doc_id)->title, "T200");
  EXPECT_TRUE(store_->Verify().ok());
}

// Inside a transaction, the writing thread reads what it wrote; another
// thread meanwhile reads the last committed state, without waiting for the
// transaction to end.
TEST_P(StoreTest, ReadsInsideAndBesideAnOpenTransaction) {
  int64_t src = store_->EnsureSource("files", "/docs").value();
  auto doc = Doc(src, "a.md", "old text");
  auto chunks = Chunks(doc.content);
  ASSERT_TRUE(store_->PutDocument(&doc, &chunks).ok());
  std::promise<void> written, read_beside;
  std::string seen_beside;
  std::thread other([&] {
    written.get_future().wait();
    auto d = store_->GetDocument(doc.id);
    seen_beside = d.ok() ? d->content : d.status().ToString();
    read_beside.set_value();
  });
  Status st = store_->InTransaction([&]() -> Status {
    auto d = Doc(src, "a.md", "new text");
    auto c = Chunks(d.content);
    SAVOIR_RETURN_IF_ERROR(store_->PutDocument(&d, &c));
    auto mine = store_->GetDocument(doc.id);
    EXPECT_TRUE(mine.ok() && mine->content == "new text");
    auto passage = store_->GetPassage(c[0].id);
    EXPECT_TRUE(passage.ok() && passage->text == "new text");
    written.set_value();
    read_beside.get_future().wait();
    return Status::Ok();
  });
  other.join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen_beside, "old text");
  EXPECT_EQ(store_->GetDocument(doc.id)->content, "new text");
}

TEST_P(StoreTest, EmbeddingCacheIsKeyedByModelAndHash) {
  std::vector<std::string> hashes = {std::string("h1\0x", 4), "h2"};
  auto none = store_->GetEmbeddings("m1", hashes);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  ASSERT_EQ(none->size(), 2u);
  EXPECT_TRUE((*none)[0].empty());
  ASSERT_TRUE(store_->PutEmbeddings("m1", hashes, {{1.f, 0.f}, {0.f, -1.5f}}).ok());
  ASSERT_TRUE(store_->PutEmbeddings("m2", {hashes[0]}, {{9.f}}).ok());
  auto got = store_->GetEmbeddings("m1", {"h2", "nope", hashes[0]});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0], (std::vector<float>{0.f, -1.5f}));
  EXPECT_TRUE((*got)[1].empty());
  EXPECT_EQ((*got)[2], (std::vector<float>{1.f, 0.f}));
  EXPECT_EQ((*store_->GetEmbeddings("m2", {hashes[0]}))[0], std::vector<float>{9.f});
  EXPECT_EQ(*store_->CountEmbeddings("m1"), 2);
  EXPECT_FALSE(store_->PutEmbeddings("m1", hashes, {{1.f}}).ok());  // sizes differ
  // Inside a caller's transaction, and replaced on conflict.
  ASSERT_TRUE(store_->InTransaction([&] { return store_->PutEmbeddings("m1", {"h2"}, {{2.f}}); }).ok());
  EXPECT_EQ((*store_->GetEmbeddings("m1", {"h2"}))[0], std::vector<float>{2.f});
  ASSERT_TRUE(store_->DeleteEmbeddings("m1").ok());
  EXPECT_EQ(*store_->CountEmbeddings("m1"), 0);
  EXPECT_EQ(*store_->CountEmbeddings("m2"), 1);
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreTest, ::testing::ValuesIn(Factories()),
                         [](const auto& info) { return info.param.name; });

TEST(SqliteStore, CorruptFileIsAClearError) {
  testing::TempDir dir;
  std::string path = dir / "savoir.db";
  std::ofstream(path) << std::string(8192, 'x');
  auto s = OpenSqliteStore(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().kind(), ErrorKind::kCorrupt);
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().message();
}

TEST(SqliteStore, ReopenKeepsDataAndSchema) {
  testing::TempDir dir;
  int64_t id = 0;
  {
    auto s = OpenSqliteStore(dir / "savoir.db").value();
    int64_t src = s->EnsureSource("files", "/d").value();
    DocumentRecord d;
    d.source_id = src;
    d.external_id = "a";
    d.content = "abc";
    d.acl = {"public"};
    std::vector<ChunkRecord> c(1);
    c[0].end = 3;
    ASSERT_TRUE(s->PutDocument(&d, &c).ok());
    id = d.id;
  }
  auto s = OpenSqliteStore(dir / "savoir.db").value();
  EXPECT_EQ(s->GetDocument(id)->content, "abc");
}

}  // namespace
}  // namespace savoir
