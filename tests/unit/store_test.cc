// Store contract tests, written once against the Store interface and run for
// every implementation (SQLite today; PostgreSQL joins the list later).
#include "store/store.h"

#include <gtest/gtest.h>

#include <fstream>
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
