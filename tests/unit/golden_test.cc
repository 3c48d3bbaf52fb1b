// Runs the declarative retrieval cases of tests/golden/cases.txt through the
// real ingest path (store, chunker, language detection, index) and Searcher.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "ingest/index_builder.h"
#include "ingest/ingestor.h"
#include "retrieve/searcher.h"
#include "test_util.h"

namespace savoir {
namespace {

struct GoldenDoc {
  std::string id, title, text;
  AccessList acl = {"public"};
};

struct GoldenCase {
  std::string name, query;
  Principal principal;
  SearchFilters filters;
  std::vector<std::string> top, never;
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

void Parse(const std::string& path, std::vector<GoldenDoc>* docs, std::vector<GoldenCase>* cases) {
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::string line;
  auto value = [](const std::string& l, size_t key_len) { return l.substr(key_len); };
  while (std::getline(in, line)) {
    if (line.rfind("doc ", 0) == 0) {
      GoldenDoc d;
      d.id = line.substr(4);
      while (std::getline(in, line) && !line.empty()) {
        if (line.rfind("acl: ", 0) == 0) d.acl = Split(value(line, 5), ' ');
        if (line.rfind("title: ", 0) == 0) d.title = value(line, 7);
      }
      while (std::getline(in, line) && line != "end") d.text += line + "\n";
      docs->push_back(d);
    } else if (line.rfind("case ", 0) == 0) {
      GoldenCase c;
      c.name = line.substr(5);
      while (std::getline(in, line) && !line.empty()) {
        if (line.rfind("query: ", 0) == 0) c.query = value(line, 7);
        if (line.rfind("top: ", 0) == 0) c.top = Split(value(line, 5), ' ');
        if (line.rfind("never: ", 0) == 0) c.never = Split(value(line, 7), ' ');
        if (line.rfind("lang: ", 0) == 0) c.filters.languages = Split(value(line, 6), ',');
        if (line.rfind("as: ", 0) == 0) {
          for (const auto& kv : Split(value(line, 4), ' ')) {
            if (kv.rfind("user=", 0) == 0) c.principal.user = kv.substr(5);
            if (kv.rfind("groups=", 0) == 0) c.principal.groups = Split(kv.substr(7), ',');
          }
        }
      }
      cases->push_back(c);
    }
  }
}

TEST(Golden, RetrievalCases) {
  std::vector<GoldenDoc> docs;
  std::vector<GoldenCase> cases;
  Parse(std::string(SAVOIR_SOURCE_DIR) + "/tests/golden/cases.txt", &docs, &cases);
  ASSERT_FALSE(docs.empty());
  ASSERT_FALSE(cases.empty());

  testing::TempDir dir;
  auto store = OpenSqliteStore(dir / "savoir.db").value();
  auto index = KeywordIndex::Open(dir / "index").value();
  int64_t source = store->EnsureSource("golden", "cases").value();
  std::map<int64_t, std::string> ids;
  for (const auto& d : docs) {
    SourceDocument sd;
    sd.external_id = d.id;
    sd.parsed.title = d.title;
    sd.parsed.text = d.text;
    sd.acl = d.acl;
    ASSERT_TRUE(IngestDocument(*store, source, sd, IngestOptions{}).ok());
  }
  auto listed = store->ListDocuments(source).value();
  for (const auto& [ext, id] : listed) ids[id] = ext;
  ASSERT_TRUE(CatchUpIndex(*store, *index).ok());
  Searcher searcher(*index, SearcherOptions{});

  for (const auto& c : cases) {
    SCOPED_TRACE("case " + c.name);
    SearchRequest req;
    req.query = c.query;
    req.principal = c.principal;
    req.filters = c.filters;
    req.k = 100;
    auto hits = searcher.Search(req);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<std::string> got;
    for (const auto& h : *hits) got.push_back(ids[h.doc_id]);
    std::string ranking;
    for (const auto& g : got) ranking += g + " ";
    ASSERT_GE(got.size(), c.top.size()) << ranking;
    for (size_t i = 0; i < c.top.size(); ++i)
      EXPECT_NE(std::find(c.top.begin(), c.top.end(), got[i]), c.top.end())
          << "rank " << i + 1 << " is " << got[i] << "; ranking: " << ranking;
    for (const auto& n : c.never)
      EXPECT_EQ(std::find(got.begin(), got.end(), n), got.end()) << n << " must not appear; ranking: " << ranking;
  }
}

}  // namespace
}  // namespace savoir
