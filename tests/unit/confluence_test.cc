// Confluence: the storage-format converter, access lists from inherited read
// restrictions, and content objects to documents.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/confluence/confluence_model.h"
#include "connectors/confluence/export_connector.h"
#include "connectors/confluence/storage_format.h"

namespace savoir {
namespace {
using json = nlohmann::json;

std::string BlockText(const ParsedDocument& d, const Block& b) { return d.text.substr(b.begin, b.end - b.begin); }

TEST(ConfluenceStorage, HeadingsTablesCodeAndMacroChrome) {
  const char* body = R"(<h1>Deploy&nbsp;runbook</h1>
<p>Run it on <strong>Fridays</strong> &mdash; never &amp; always<br/>carefully.</p>
<ac:structured-macro ac:name="toc" ac:schema-version="1"><ac:parameter ac:name="maxLevel">2</ac:parameter></ac:structured-macro>
<h2>Hosts</h2>
<table><tbody><tr><th>Host</th><th>Role</th></tr><tr><td><p>db-1</p></td><td>primary</td></tr><tr><td>db-2</td><td>replica</td></tr></tbody></table>
<ac:structured-macro ac:name="code" ac:schema-version="1"><ac:parameter ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[if [ $x -lt 3 ] && true; then
  echo "<done>"
fi]]></ac:plain-text-body></ac:structured-macro>
<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Note</ac:parameter><ac:rich-text-body><p>Ask <ac:link><ri:user ri:account-id="abc"/></ac:link>the on-call first.</p></ac:rich-text-body></ac:structured-macro>
<ul><li>one</li><li>see <ac:link><ri:page ri:content-title="Rollback"/></ac:link></li></ul>
<p><ac:image><ri:attachment ri:filename="diagram.png"/></ac:image></p>
<h3>Caf&eacute; &unknown; notes</h3>)";
  auto d = ConfluenceStorageToDocument(body);
  ASSERT_TRUE(d.ok()) << d.status().message();
  std::vector<std::pair<BlockKind, std::string>> got;
  for (const auto& b : d->blocks) got.emplace_back(b.kind, BlockText(*d, b));
  std::vector<std::pair<BlockKind, std::string>> want = {
      {BlockKind::kHeading, "Deploy runbook"},
      {BlockKind::kParagraph, "Run it on Fridays — never & always carefully."},
      {BlockKind::kHeading, "Hosts"},
      {BlockKind::kTable, "Host | Role\ndb-1 | primary\ndb-2 | replica"},
      {BlockKind::kCode, "if [ $x -lt 3 ] && true; then\n  echo \"<done>\"\nfi"},
      {BlockKind::kParagraph, "Ask the on-call first."},
      {BlockKind::kListItem, "one"},
      {BlockKind::kListItem, "see Rollback"},
      {BlockKind::kHeading, "Café &unknown; notes"},
  };
  EXPECT_EQ(got, want) << d->text;
  EXPECT_EQ(d->blocks[0].level, 1);
  EXPECT_EQ(d->blocks[2].level, 2);
  EXPECT_EQ(d->text.find("maxLevel"), std::string::npos);
  EXPECT_EQ(d->text.find("bash"), std::string::npos);
  EXPECT_EQ(d->text.find("diagram"), std::string::npos);
}

TEST(ConfluenceStorage, EmptyAndBrokenBodies) {
  auto empty = ConfluenceStorageToDocument("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->blocks.empty());
  auto stray = ConfluenceStorageToDocument("<p>R&D 5 < 6</p>");
  EXPECT_FALSE(stray.ok());  // '<' unescaped is not storage format
  auto amp = ConfluenceStorageToDocument("<p>R&D</p>");
  ASSERT_TRUE(amp.ok());
  EXPECT_EQ(amp->text, "R&D");
  EXPECT_FALSE(ConfluenceStorageToDocument("<p>unclosed").ok());
}

json Restricted(const std::string& id, std::vector<std::string> users, std::vector<std::string> groups) {
  json u = json::array(), g = json::array();
  for (auto& x : users) u.push_back({{"type", "known"}, {"accountId", x}});
  for (auto& x : groups) g.push_back({{"type", "group"}, {"name", x}});
  json c;
  c["id"] = id;
  c["restrictions"]["read"]["restrictions"]["user"]["results"] = u;
  c["restrictions"]["read"]["restrictions"]["group"]["results"] = g;
  return c;
}

TEST(ConfluenceAccess, UnrestrictedInheritedAndIntersected) {
  std::map<std::string, std::optional<std::set<std::string>>> own;
  own["1"] = ConfluenceOwnReadAccess(json{{"id", "1"}});
  own["2"] = ConfluenceOwnReadAccess(Restricted("2", {"u-ada"}, {"finance"}));
  own["3"] = ConfluenceOwnReadAccess(json{{"id", "3"}});
  own["4"] = ConfluenceOwnReadAccess(Restricted("4", {"u-bob"}, {"finance"}));
  EXPECT_FALSE(own["1"].has_value());
  EXPECT_EQ(ConfluenceAccess("1", {}, own, "ENG"), AccessList{"group:confluence-space:ENG"});
  AccessList secret = {"group:confluence:finance", "user:confluence:u-ada"};
  EXPECT_EQ(ConfluenceAccess("2", {"1"}, own, "ENG"), secret);
  EXPECT_EQ(ConfluenceAccess("3", {"1", "2"}, own, "ENG"), secret);  // inherited
  EXPECT_EQ(ConfluenceAccess("4", {"1", "2", "3"}, own, "ENG"), AccessList{"group:confluence:finance"});
  // Data Center users have a username instead of an accountId.
  json dc = json::parse(R"({"restrictions": {"read": {"restrictions": {"user": {"results": [{"username": "jdoe"}]}}}}})");
  EXPECT_EQ(*ConfluenceOwnReadAccess(dc), std::set<std::string>{"user:confluence:jdoe"});
}

TEST(ConfluenceModel, TimesAndDocument) {
  EXPECT_EQ(ParseConfluenceTime("2024-01-15T10:30:00.000Z"), 1705314600);
  EXPECT_EQ(ParseConfluenceTime("2024-01-15T11:30:00.000+01:00"), 1705314600);
  EXPECT_EQ(ParseConfluenceTime("garbage"), 0);
  EXPECT_EQ(CqlTime(1705314600), "2024-01-15 10:30");
  json c = json::parse(R"({
    "id": "42", "type": "page", "title": "Deploy",
    "version": {"number": 3, "when": "2024-01-15T10:30:00.000Z", "by": {"displayName": "Ada"}},
    "history": {"createdDate": "2024-01-01T00:00:00.000Z"},
    "ancestors": [{"id": "1", "title": "Engineering"}, {"id": "2", "title": "Runbooks"}],
    "metadata": {"labels": {"results": [{"name": "ops"}]}},
    "body": {"storage": {"value": "<h2>Steps</h2><p>go</p>", "representation": "storage"}},
    "_links": {"webui": "/spaces/ENG/pages/42/Deploy"}})");
  auto d = ConfluenceDocument(c, "ENG", "https://acme.atlassian.net/wiki", {"group:confluence-space:ENG"});
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->external_id, "ENG/42");
  EXPECT_EQ(d->url, "https://acme.atlassian.net/wiki/spaces/ENG/pages/42/Deploy");
  EXPECT_EQ(d->author, "Ada");
  EXPECT_EQ(d->updated_at, 1705314600);
  EXPECT_EQ(d->created_at, 1704067200);
  ASSERT_TRUE(d->parsed.has_value());
  EXPECT_EQ(d->parsed->heading_prefix, "Engineering > Runbooks");
  EXPECT_EQ(d->text, "Steps\n\ngo");
  json meta = json::parse(d->metadata_json);
  EXPECT_EQ(meta["labels"], json::array({"ops"}));
  EXPECT_EQ(meta["version"], 3);
  EXPECT_EQ(meta["type"], "page");
}

TEST(ConfluenceExport, PageTitleBreadcrumbsAndMainContent) {
  const std::string html = R"(<html><head><title>Ops : Deploy</title></head><body>
<ol id="breadcrumbs"><li><span><a href="index.html">Ops</a></span></li>
<li><span><a href="Home_1.html">Ops Home</a></span></li><li><a href="Runbooks_2.html"> Run&amp;books </a></li></ol>
<h1 id="title-heading"><span id="title-text">  Ops :   Deploy </span></h1>
<div class="page-metadata">Created by someone</div>
<div id="main-content" class="wiki-content"><p>Body <div>nested</div> text</p></div>
<div id="footer">footer</div></body></html>)";
  ExportedPage p = ParseExportedPage(html);
  EXPECT_EQ(p.title, "Ops : Deploy");
  EXPECT_EQ(p.breadcrumbs, (std::vector<std::string>{"Ops", "Ops Home", "Run&books"}));
  EXPECT_EQ(p.body_html, "<p>Body <div>nested</div> text</p>");
  ExportedPage none = ParseExportedPage("<html><head><title>Only a title</title></head><body></body></html>");
  EXPECT_EQ(none.title, "Only a title");
  EXPECT_TRUE(none.breadcrumbs.empty());
  EXPECT_TRUE(none.body_html.empty());
}

}  // namespace
}  // namespace savoir
