// IngestBatch (documents prepared on several threads, written in order)
// stores exactly what a loop of IngestDocument stores.
#include "ingest/ingestor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/utf8.h"
#include "store/store.h"
#include "test_util.h"

namespace savoir {
namespace {

std::vector<SourceDocument> Docs() {
  const std::vector<std::string> en = {
      "The on-call engineer acknowledges every page within fifteen minutes. ",
      "Paid leave is twenty-five working days a year, plus ten days of reduced hours. "};
  const std::vector<std::string> fr = {
      "Les congés payés sont de vingt-cinq jours ouvrés par an, selon la convention collective. ",
      "Le télétravail est possible deux jours par semaine avec l'accord du manager. "};
  std::vector<SourceDocument> docs;
  for (int i = 0; i < 150; ++i) {
    SourceDocument d;
    d.external_id = "doc-" + std::to_string(i);
    d.parsed.title = i % 3 ? "Title " + std::to_string(i) : "";
    d.parsed.format = "text";
    for (int r = 0; r < 1 + i % 40; ++r) d.parsed.text += (i % 2 ? fr : en)[r % 2];
    if (i % 7 == 0) d.parsed.text += std::string("\xff\xfe broken bytes");  // sanitized
    if (i % 11 == 0) d.acl = {"group:hr"};
    docs.push_back(std::move(d));
  }
  return docs;
}

TEST(Ingestor, BatchStoresWhatOneByOneStores) {
  testing::TempDir dir;
  IngestOptions opt;
  opt.chunker.max_tokens = 60;  // several chunks for the longer documents
  auto one = OpenSqliteStore(dir / "one.db");
  auto batch = OpenSqliteStore(dir / "batch.db");
  ASSERT_TRUE(one.ok() && batch.ok());
  auto s1 = (*one)->EnsureSource("test", "x");
  auto s2 = (*batch)->EnsureSource("test", "x");
  ASSERT_TRUE(s1.ok() && s2.ok());
  std::vector<SourceDocument> a = Docs(), b = Docs();
  for (auto& d : a) ASSERT_TRUE(IngestDocument(**one, *s1, d, opt).ok());
  ASSERT_TRUE(IngestBatch(**batch, *s2, b, opt, 3).ok());
  std::vector<SourceDocument> none;
  ASSERT_TRUE(IngestBatch(**batch, *s2, none, opt).ok());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].parsed.text, b[i].parsed.text);  // given back

  auto l1 = (*one)->ListDocuments(*s1);
  auto l2 = (*batch)->ListDocuments(*s2);
  ASSERT_TRUE(l1.ok() && l2.ok());
  ASSERT_EQ(l1->size(), 150u);
  ASSERT_EQ(l1->size(), l2->size());
  size_t chunks = 0;
  for (size_t i = 0; i < l1->size(); ++i) {
    ASSERT_EQ((*l1)[i].first, (*l2)[i].first);
    auto d1 = (*one)->GetDocument((*l1)[i].second);
    auto d2 = (*batch)->GetDocument((*l2)[i].second);
    ASSERT_TRUE(d1.ok() && d2.ok());
    EXPECT_EQ(d1->title, d2->title);
    EXPECT_EQ(d1->content, d2->content);
    EXPECT_EQ(d1->language, d2->language);
    EXPECT_EQ(d1->content_hash, d2->content_hash);
    EXPECT_EQ(d1->acl, d2->acl);
    auto c1 = (*one)->GetChunks((*l1)[i].second);
    auto c2 = (*batch)->GetChunks((*l2)[i].second);
    ASSERT_TRUE(c1.ok() && c2.ok());
    ASSERT_EQ(c1->size(), c2->size());
    for (size_t k = 0; k < c1->size(); ++k) {
      EXPECT_EQ((*c1)[k].begin, (*c2)[k].begin);
      EXPECT_EQ((*c1)[k].end, (*c2)[k].end);
      EXPECT_EQ((*c1)[k].language, (*c2)[k].language);
      EXPECT_EQ((*c1)[k].heading_path, (*c2)[k].heading_path);
    }
    chunks += c1->size();
  }
  EXPECT_GT(chunks, 200u);
}

// A document the store refuses stops the batch there: the ones before it are
// stored, none after it, and every document gets its text back.
TEST(Ingestor, BatchStopsAtTheFirstDocumentTheStoreRefuses) {
  testing::TempDir dir;
  auto store = OpenSqliteStore(dir / "s.db");
  ASSERT_TRUE(store.ok());
  auto source = (*store)->EnsureSource("test", "x");
  ASSERT_TRUE(source.ok());
  std::vector<SourceDocument> docs = Docs(), original = Docs();
  docs[70].acl.clear();  // the store refuses a document nobody may see
  Status st = IngestBatch(**store, *source, docs, IngestOptions{}, 2);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("doc-70"), std::string::npos) << st.ToString();
  auto listed = (*store)->ListDocuments(*source);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 70u);
  for (const auto& [external_id, id] : *listed) EXPECT_LT(std::stoi(external_id.substr(4)), 70) << external_id;
  for (size_t i = 0; i < docs.size(); ++i) {  // as given, or sanitized if it was prepared
    std::string sanitized = original[i].parsed.text;
    SanitizeUtf8InPlace(&sanitized);
    EXPECT_TRUE(docs[i].parsed.text == sanitized || docs[i].parsed.text == original[i].parsed.text) << i;
    EXPECT_FALSE(docs[i].parsed.text.empty()) << i;
  }
}

}  // namespace
}  // namespace savoir
