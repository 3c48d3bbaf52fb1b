// Slack: markup rendering, grouping into documents, and the export
// connector on the real export in ../shared/data/slack-export.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "connectors/slack/export_connector.h"
#include "connectors/slack/markup.h"
#include "connectors/slack/slack_model.h"
#include "connectors/sync.h"
#include "test_util.h"

namespace savoir {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

TEST(SlackMarkup, RendersEntitiesLinksEmojiAndEscapes) {
  SlackNames names;
  names.users["U123"] = "Ada Lovelace";
  names.channels["C9"] = "general";
  EXPECT_EQ(RenderSlackText("hi <@U123> and <@U999|bob>", names), "hi @Ada Lovelace and @bob");
  EXPECT_EQ(RenderSlackText("see <#C9|general> / <#C9>", names), "see #general / #general");
  EXPECT_EQ(RenderSlackText("<https://x.org/a?b=1&amp;c=2|the doc>", names), "the doc (https://x.org/a?b=1&c=2)");
  EXPECT_EQ(RenderSlackText("<https://x.org>", names), "https://x.org");
  EXPECT_EQ(RenderSlackText("<mailto:a@b.c|a@b.c>", names), "mailto:a@b.c");
  EXPECT_EQ(RenderSlackText("<!here> <!channel|@channel> <!everyone>", names), "@here @channel @everyone");
  EXPECT_EQ(RenderSlackText("ship it :rocket: :+1: :custom_thing: 10:30", names),
            "ship it 🚀 👍 :custom_thing: 10:30");
  EXPECT_EQ(RenderSlackText("a &lt;b&gt; &amp; c", names), "a <b> & c");
}

SlackMessage Msg(const std::string& ts, const std::string& text, const std::string& thread_ts = "") {
  SlackMessage m;
  m.ts = ts;
  m.text = text;
  m.user = "U1";
  m.thread_ts = thread_ts;
  m.day = SlackTsDay(ts);
  return m;
}

// Payload fields of another type than Slack documents (a hostile or broken
// server) read as absent: nothing throws.
TEST(SlackModel, FieldsOfTheWrongTypeReadAsAbsent) {
  auto channel = SlackChannelFromJson(nlohmann::json::parse(
      R"({"id": "G1", "name": 7, "is_private": "yes", "is_im": 1, "members": ["U1", 2, null]})"), false);
  EXPECT_EQ(channel.id, "G1");
  EXPECT_EQ(channel.name, "");
  EXPECT_FALSE(channel.is_private);
  EXPECT_EQ(channel.members, std::vector<std::string>{"U1"});
  auto m = SlackMessageFromJson(nlohmann::json::parse(R"({"ts": 1449182310.5, "text": ["x"], "edited": {"ts": 3}})"));
  EXPECT_EQ(m.ts, "");
  EXPECT_EQ(m.text, "");
  EXPECT_EQ(m.edited, 0);
  EXPECT_EQ(SlackMessageFromJson(nlohmann::json::parse("42")).ts, "");
  // A ts of twenty digits overflowed int64 (found by the slack fuzzer): malformed now.
  EXPECT_EQ(SlackTsSeconds("99999999999999999999.9"), 0);
  EXPECT_EQ(SlackTsSeconds("253402300800.000001"), 0);
  EXPECT_EQ(SlackTsSeconds("1449182310.000002"), 1449182310);
  EXPECT_EQ(SlackUserDisplayName(nlohmann::json::parse(R"({"profile": {"display_name": 3}, "real_name": "Ada"})")), "Ada");
  EXPECT_EQ(SlackUserDisplayName(nlohmann::json::parse("[1]")), "");
}

TEST(SlackModel, ThreadsAndDayGroupsWithStableIdsTitlesAndPermalinks) {
  SlackWorkspace ws;
  ws.source_name = "acme";
  ws.domain = "acme";
  ws.names.users["U1"] = "Ada";
  SlackChannel ch{"C123", "eng", false, {}};
  std::vector<SlackMessage> msgs = {
      Msg("1449182310.000002", "Deploy plan for friday please review", "1449182310.000002"),
      Msg("1449182400.000100", "looks good", "1449182310.000002"),
      Msg("1449100000.000001", "morning all"),
      Msg("1449100100.000001", "standup in 5"),
  };
  SlackMessage join = Msg("1449100200.000001", "<@U1> has joined the channel");
  join.subtype = "channel_join";
  msgs.push_back(join);
  auto docs = SlackDocuments(ws, ch, msgs);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].external_id, "C123/1449182310.000002");
  EXPECT_EQ(docs[0].title, "#eng — Deploy plan for friday please review");
  EXPECT_EQ(docs[0].url, "https://acme.slack.com/archives/C123/p1449182310000002");
  EXPECT_NE(docs[0].text.find("looks good"), std::string::npos);
  EXPECT_EQ(docs[1].external_id, "C123/2015-12-02");
  EXPECT_EQ(docs[1].text.find("joined"), std::string::npos);
  EXPECT_EQ(docs[1].acl, AccessList{"group:slack-workspace:acme"});
  EXPECT_TRUE(IsSlackDayId(docs[1].external_id));
  EXPECT_FALSE(IsSlackDayId(docs[0].external_id));

  SlackChannel priv{"G1", "secret", true, {"U2", "U1"}};
  EXPECT_EQ(SlackDocuments(ws, priv, msgs)[0].acl, (AccessList{"user:slack:U1", "user:slack:U2"}));
}

// The real export: the expected document count is computed here from the
// files, independently of the connector.
class SlackExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string shared = testing::SharedData();
    if (shared.empty() || !fs::exists(shared + "/slack-export/channels.json"))
      GTEST_SKIP() << "../shared/data/slack-export is absent; the Slack export tests need it";
    fs::copy(shared + "/slack-export", dir_ / "export", fs::copy_options::recursive);
    auto s = OpenSqliteStore(dir_ / "savoir.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    source_ = *store_->EnsureSource("slack-export", "houstondatavis");
  }

  ConnectorSyncSummary Sync() {
    SlackExportOptions o;
    o.path = dir_ / "export";
    o.source_name = "houstondatavis";
    auto c = NewSlackExportConnector(o);
    ConnectorSyncSummary sum;
    Status st = SyncConnector(*store_, source_, *c, {}, &sum);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return sum;
  }

  // Threads + (channel, day) groups of non-housekeeping messages with text.
  size_t ExpectedDocuments(const std::string& skip_file = "") {
    static const std::set<std::string> noise = {"channel_join", "channel_leave", "channel_archive",
                                                "bot_add", "pinned_item"};
    std::ifstream in(dir_ / "export/channels.json");
    json channels = json::parse(in);
    std::set<std::string> groups;
    for (const auto& c : channels) {
      std::string folder = dir_ / ("export/" + c["name"].get<std::string>());
      if (!fs::exists(folder)) continue;
      for (const auto& f : fs::directory_iterator(folder)) {
        if (f.path().string() == skip_file) continue;
        std::ifstream day(f.path());
        for (const auto& m : json::parse(day)) {
          if (noise.count(m.value("subtype", "")) || m.value("text", "").empty()) continue;
          if (m.contains("thread_ts")) groups.insert(c["id"].get<std::string>() + "/" + m["thread_ts"].get<std::string>());
          else groups.insert(c["id"].get<std::string>() + "/" + f.path().stem().string());
        }
      }
    }
    return groups.size();
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  int64_t source_ = 0;
};

TEST_F(SlackExportTest, IndexesEveryThreadAndDayGroupOnceAndResyncChangesNothing) {
  auto first = Sync();
  size_t expected = ExpectedDocuments();
  EXPECT_GT(expected, 100u);
  EXPECT_EQ(store_->ListDocuments(source_)->size(), expected);
  EXPECT_EQ(first.added, expected);
  EXPECT_TRUE(first.errors.empty()) << first.errors.front();

  // Markup rendered: the general channel's first day says "Hello!" after
  // joins rendered away; a mention is a display name, not <@U...>.
  auto doc = store_->FindDocument(source_, "C061A2UGJ/2015-06-05");
  ASSERT_TRUE(doc.ok() && doc->has_value());
  DocumentRecord rec = *store_->GetDocument((*doc)->id);
  EXPECT_NE(rec.content.find("Hello!"), std::string::npos);
  EXPECT_EQ(rec.title.rfind("#general — ", 0), 0u) << rec.title;
  EXPECT_EQ(rec.url.rfind("https://houstondatavis.slack.com/archives/C061A2UGJ/p", 0), 0u);
  EXPECT_EQ(rec.acl, AccessList{"group:slack-workspace:houstondatavis"});
  std::vector<int64_t> ids = store_->AllDocumentIds().value();
  for (int64_t id : ids) {
    std::string content = store_->GetDocument(id)->content;
    EXPECT_EQ(content.find("<@U"), std::string::npos) << content.substr(0, 200);
    EXPECT_EQ(content.find("&gt;"), std::string::npos);
  }

  int64_t seq = *store_->LastChangeSeq();
  auto again = Sync();
  EXPECT_EQ(again.unchanged, expected);
  EXPECT_EQ(again.added + again.updated + again.removed, 0u);
  EXPECT_EQ(*store_->LastChangeSeq(), seq) << "a re-sync of an unchanged export wrote to the change log";
}

TEST_F(SlackExportTest, DeletingADayFileRemovesItsDocuments) {
  Sync();
  std::string file = dir_ / "export/general/2015-06-05.json";
  ASSERT_TRUE(fs::remove(file));
  auto sum = Sync();
  EXPECT_EQ(sum.removed, 1u);
  EXPECT_EQ(store_->ListDocuments(source_)->size(), ExpectedDocuments());
  EXPECT_FALSE(store_->FindDocument(source_, "C061A2UGJ/2015-06-05")->has_value());
}

TEST_F(SlackExportTest, ABrokenDayFileIsReportedAndKeepsItsChannel) {
  Sync();
  size_t before = store_->ListDocuments(source_)->size();
  std::ofstream(dir_ / "export/general/2015-06-05.json") << "{not json";
  auto sum = Sync();
  ASSERT_EQ(sum.errors.size(), 1u);
  EXPECT_NE(sum.errors[0].find("2015-06-05.json"), std::string::npos);
  EXPECT_EQ(sum.removed, 0u);
  EXPECT_EQ(store_->ListDocuments(source_)->size(), before);
}

}  // namespace
}  // namespace savoir
