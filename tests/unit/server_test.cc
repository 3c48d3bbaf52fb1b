// The HTTP boundary without sockets: error mapping, the exception guard and
// request validation (the e2e tests drive the real server).
#include <gtest/gtest.h>

#include <stdexcept>
#include <unordered_set>

#include "server/http_errors.h"
#include "server/request_parsing.h"
#include "retrieve/snippet.h"
#include "server/retrieval.h"

namespace savoir {
namespace {
using json = nlohmann::json;

TEST(ServerErrors, MapsEveryKindToOneStatus) {
  EXPECT_EQ(HttpStatusFor(ErrorKind::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kTimeout), 504);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kAlreadyExists), 409);  // a source name in use
  for (ErrorKind k : {ErrorKind::kUnsupported, ErrorKind::kCorrupt, ErrorKind::kIo,
                      ErrorKind::kInternal})
    EXPECT_EQ(HttpStatusFor(k), 500) << ErrorKindName(k);
}

TEST(ServerErrors, BodiesInBothStyles) {
  Status st(ErrorKind::kNotFound, "no document 7");
  EXPECT_EQ(ErrorBody(st, ErrorStyle::kSavoir),
            json::parse(R"({"error": {"code": "not_found", "message": "no document 7"}})"));
  json o = ErrorBody(st, ErrorStyle::kOpenAi, "model_not_found");
  EXPECT_EQ(o["error"]["message"], "no document 7");
  EXPECT_EQ(o["error"]["type"], "invalid_request_error");
  EXPECT_EQ(o["error"]["code"], "model_not_found");
  EXPECT_EQ(ErrorBody(Status(ErrorKind::kInternal, "x"), ErrorStyle::kOpenAi)["error"]["type"], "server_error");
}

TEST(ServerErrors, GuardTurnsStatusesAndExceptionsIntoJson) {
  httplib::Request req;
  req.method = "GET";
  req.path = "/x";
  httplib::Response res;
  Guarded(ErrorStyle::kSavoir, [](const httplib::Request&, httplib::Response&) {
    return Status(ErrorKind::kPermissionDenied, "not yours");
  })(req, res);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(json::parse(res.body)["error"]["code"], "permission_denied");

  httplib::Response res2;
  Guarded(ErrorStyle::kSavoir, [](const httplib::Request&, httplib::Response&) -> Status {
    throw std::runtime_error("boom with secrets");
  })(req, res2);
  EXPECT_EQ(res2.status, 500);
  // The exception's text goes to the log, not to the client.
  EXPECT_EQ(res2.body.find("secrets"), std::string::npos);
  EXPECT_EQ(json::parse(res2.body)["error"]["code"], "internal");

  httplib::Response res3;
  Guarded(ErrorStyle::kSavoir, [](const httplib::Request&, httplib::Response&) -> Status { throw 42; })(req, res3);
  EXPECT_EQ(res3.status, 500);
}

TEST(ServerErrors, HttplibStatusesMapBackToKinds) {
  EXPECT_EQ(ErrorKindForHttpStatus(413), ErrorKind::kTooLarge);
  EXPECT_EQ(ErrorKindForHttpStatus(404), ErrorKind::kNotFound);
  EXPECT_EQ(ErrorKindForHttpStatus(400), ErrorKind::kInvalidArgument);
  EXPECT_EQ(ErrorKindForHttpStatus(500), ErrorKind::kInternal);
}

Status SearchError(const std::string& body) {
  auto j = ParseJsonObject(body);
  if (!j.ok()) return j.status();
  auto p = ParseSearchParams(*j, 10);
  return p.ok() ? Status::Ok() : p.status();
}

TEST(ServerRequests, SearchRejectsBadBodiesNamingTheField) {
  EXPECT_EQ(SearchError("").message(), "the request body is empty; a JSON object is expected");
  EXPECT_EQ(SearchError("{\"query\": ").message(), "the request body is not valid JSON");
  EXPECT_EQ(SearchError("[1]").message(), "the request body must be a JSON object, not array");
  EXPECT_EQ(SearchError("{}").message(), "query is required");
  EXPECT_EQ(SearchError(R"({"query": 3})").message(), "query must be a string, not number");
  EXPECT_EQ(SearchError(R"({"query": "  "})").message(), "query is empty");
  EXPECT_EQ(SearchError(R"({"query": "a", "k": 0})").message(), "k must be between 1 and 100");
  EXPECT_EQ(SearchError(R"({"query": "a", "k": 101})").message(), "k must be between 1 and 100");
  EXPECT_EQ(SearchError(R"({"query": "a", "k": 2.5})").message(), "k must be an integer, not number");
  EXPECT_EQ(SearchError(R"({"query": "a", "k": true})").message(), "k must be an integer, not boolean");
  EXPECT_EQ(SearchError(R"({"query": "a", "k": 1e300})").message(), "k must be between 1 and 100");
  EXPECT_EQ(SearchError(R"({"query": "a", "filters": []})").message(), "filters must be an object, not array");
  EXPECT_EQ(SearchError(R"({"query": "a", "filters": {"sources": ["1"]}})").message(),
            "filters.sources must hold integer source ids");
  EXPECT_EQ(SearchError(R"({"query": "a", "filters": {"languages": ["french"]}})").message(),
            "filters.languages must hold 2-letter language codes such as \"fr\"");
  EXPECT_EQ(SearchError(R"({"query": "a", "filters": {"updated_after": 20260101}})").kind(),
            ErrorKind::kInvalidArgument);
  Status big = SearchError(json{{"query", std::string(10241, 'a')}}.dump());
  EXPECT_EQ(big.kind(), ErrorKind::kTooLarge);
  EXPECT_EQ(big.message(), "query is 10241 bytes long; at most 10240 are accepted");
}

TEST(ServerRequests, SearchAcceptsTheUiShape) {
  auto p = ParseSearchParams(json::parse(R"({"query": "congés", "k": 5,
      "filters": {"sources": [3], "languages": ["en"], "updated_after": "2026-01-01"}})"), 10);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->k, 5u);
  EXPECT_EQ(p->filters.sources, std::vector<int64_t>{3});
  EXPECT_EQ(p->filters.languages, std::vector<std::string>{"en"});
  EXPECT_EQ(p->filters.updated_after, 1767225600);
  auto d = ParseSearchParams(json::parse(R"({"query": "a", "filters": {"updated_after": ""}, "k": null})"), 10);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->k, 10u);
  EXPECT_TRUE(d->filters.empty());
}

TEST(ServerRequests, ChatHistoryIsChecked) {
  auto ok = ParseChatParams(json::parse(R"({"query": "and part-time?",
      "history": [{"role": "user", "content": "leave"}, {"role": "assistant", "content": "25 days [1]"}]})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->history.size(), 2u);
  EXPECT_EQ(ok->search.k, 8u);
  auto bad = ParseChatParams(json::parse(R"({"query": "x", "history": [{"role": "system", "content": "y"}]})"));
  EXPECT_EQ(bad.status().message(), "history[0].role must be \"user\" or \"assistant\"");
  EXPECT_FALSE(ParseChatParams(json::parse(R"({"query": "x", "history": {}})")).ok());
}

TEST(ServerRequests, OpenAiMessages) {
  auto p = ParseOpenAiChat(json::parse(R"({"model": "savoir", "stream": true, "messages": [
      {"role": "system", "content": "be brief"}, {"role": "user", "content": "backups?"},
      {"role": "assistant", "content": "14 days [1]"},
      {"role": "user", "content": [{"type": "text", "text": "and restores?"}]}]})"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->stream);
  EXPECT_EQ(p->query, "and restores?");
  ASSERT_EQ(p->history.size(), 2u);
  EXPECT_EQ(p->history[0].content, "backups?");
  EXPECT_EQ(ParseOpenAiChat(json::parse(R"({"messages": []})")).status().message(),
            "messages must be a non-empty array of {role, content}");
  EXPECT_EQ(ParseOpenAiChat(json::parse(R"({"messages": [{"role": "assistant", "content": "x"}]})")).status().message(),
            "the last message must come from the user");
  EXPECT_EQ(ParseOpenAiChat(json::parse(R"({"model": 4, "messages": [{"role": "user", "content": "x"}]})")).status().message(),
            "model must be a string");
  EXPECT_EQ(ParseOpenAiChat(json::parse(R"({"messages": [{"role": "user", "content": "x"}]})"))->model, "savoir");
  // A content part whose type is not a string is refused like any other bad part (it used to throw).
  EXPECT_FALSE(ParseOpenAiChat(json::parse(R"({"messages": [{"role": "user", "content": [{"type": 5, "text": "x"}]}]})")).ok());
}

TEST(ServerRequests, Dates) {
  EXPECT_EQ(ParseDate("1970-01-02").value(), 86400);
  EXPECT_EQ(ParseDate("2026-01-01T00:00:00Z").value(), 1767225600);
  EXPECT_EQ(ParseDate("2026-01-01T02:00:00.250+02:00").value(), 1767225600);
  EXPECT_EQ(ParseDate("2026-01-01T01:00-0100").value(), 1767229200 + 3600);
  for (const char* bad : {"2026-02-30", "2026-13-01", "26-01-01", "2026-01-01X", "2026-01-01T25:00", "yesterday", ""})
    EXPECT_FALSE(ParseDate(bad).ok()) << bad;
  EXPECT_EQ(IsoTime(1767225600), "2026-01-01T00:00:00Z");
}

TEST(ServerRequests, ShortFollowUpsBorrowThePreviousQuestion) {
  std::vector<ChatTurn> h = {{"user", "How many days of paid leave?"}, {"assistant", "25 days [1]"}};
  EXPECT_EQ(StandaloneQuery("And part-time?", h), "And part-time?\nHow many days of paid leave?");
  std::string longq = "What is the procedure to restore a database backup on the staging cluster today";
  EXPECT_EQ(StandaloneQuery(longq, h), longq);
  EXPECT_EQ(StandaloneQuery("And part-time?", {}), "And part-time?");
}

TEST(ServerSnippets, OnlyMarkIsMarkup) {
  const std::unordered_set<std::string> terms = {"cong"};
  // Nothing is escaped; the only markup is the highlight.
  EXPECT_EQ(MarkedSnippet("a <b> & cong's \"x\"", terms, "en"), "a <b> & <mark>cong</mark>'s \"x\"");
  // Mark tags that were literally in the document cannot fake a highlight,
  // in any letter case, nor by a removal joining two halves.
  EXPECT_EQ(MarkedSnippet("<mark>fake</MARK> cong", terms, "en"), "fake <mark>cong</mark>");
  EXPECT_EQ(MarkedSnippet("<ma<mark>rk>x cong", terms, "en"), "x <mark>cong</mark>");
  EXPECT_EQ(MarkedSnippet("<ma</mark>rk>x</ma<MARK>rk> cong", terms, "en"), "x <mark>cong</mark>");
  EXPECT_EQ(MarkedSnippet("<ma\nrk>x\tcong", terms, "en"), "<ma rk>x <mark>cong</mark>");
}

TEST(ServerSnippets, MarkedSnippetIsTheHtmlSnippetUnescaped) {
  // MarkedSnippet is MakeSnippet's HTML with the escaping undone and the
  // document's own mark tags removed; checked against that long way round
  // on hostile passages.
  auto long_way = [](const std::string& html) {
    std::string out;
    auto unescape_strip = [&](std::string t) {
      std::string u;  // entities decoded left to right, each once
      for (size_t i = 0; i < t.size();) {
        bool done = false;
        for (auto [entity, c] : {std::pair<std::string, char>{"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
                                 {"&#39;", '\''}, {"&amp;", '&'}})
          if (!done && t.compare(i, entity.size(), entity) == 0) {
            u += c;
            i += entity.size();
            done = true;
          }
        if (!done) u += t[i++];
      }
      t = u;
      for (bool changed = true; changed;) {
        changed = false;
        std::string lower = t;
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        for (std::string tag : {"</mark>", "<mark>"})
          if (size_t p = lower.find(tag); p != std::string::npos) {
            t.erase(p, tag.size());
            changed = true;
            break;
          }
      }
      out += t;
    };
    size_t pos = 0;
    while (pos < html.size()) {
      size_t lt = html.find('<', pos);
      if (lt == std::string::npos) break;
      unescape_strip(html.substr(pos, lt - pos));
      size_t gt = html.find('>', lt);
      out += html.substr(lt, gt - lt + 1);
      pos = gt + 1;
    }
    if (pos < html.size()) unescape_strip(html.substr(pos));
    return out;
  };
  const std::unordered_set<std::string> terms = {"leav", "pai", "cong"};
  std::string filler;
  for (int i = 0; i < 60; ++i) filler += "word" + std::to_string(i) + " ";
  for (std::string passage :
       {std::string("Paid leave: <MaRk>25</mark> days &amp; <ma<mark>rk>more</mark> leave"),
        filler + "paid <b>leave</b> & \"quotes\" 'x' <mark>" + filler,
        std::string("<</mark>mark>leave<mark</mark>>\n\tpaid\r"), filler + "cong&eacute;s <ma\nrk> leave"}) {
    SCOPED_TRACE(passage);
    EXPECT_EQ(MarkedSnippet(passage, terms, "en"), long_way(MakeSnippet(passage, terms, "en").html));
  }
}

}  // namespace
}  // namespace savoir

namespace savoir {
namespace {

// The /api/search body written without a JSON tree is byte for byte what
// DumpJson writes from ResultsJson: escapes, invalid UTF-8 replaced, floats,
// nulls, key order.
TEST(ServerResults, SearchBodyWrittenDirectlyEqualsTheJsonTree) {
  Retrieval r;
  for (int i = 0; i < 3; ++i) {
    RetrievedHit h;
    h.hit.score = i == 0 ? 14.276521682739258f : 1.0f / (i + 2);
    h.chunk.id = 10166 + i;
    h.doc.id = 900 + i;
    h.chunk.heading_path = i == 1 ? "Guide > \"Congés\" \\ annexes" : "";
    h.chunk.language = i == 2 ? "" : "fr";
    h.doc.language = "en";
    h.snippet = std::string("a <mark>b</mark>\n\t\x01 é \xff\xfe broken ") + char(0xC3);
    h.doc.title = i == 0 ? "Titre – «cité»" : "";
    h.doc.url = "https://example.com/a?b=c&d=\"e\"";
    h.doc.updated_at = i == 1 ? 0 : 1764166000 + i;
    h.source.id = 3;
    h.source.kind = "files";
    h.source.name = "/srv/docs \x7f";
    r.hits.push_back(h);
  }
  for (double took : {0.0, 12.34, 1e-7, 123456.78}) {
    const std::string want =
        DumpJson(nlohmann::json{{"results", ResultsJson(r)}, {"took_ms", took}});
    EXPECT_EQ(SearchResponseJson(r, took), want);
  }
  EXPECT_EQ(SearchResponseJson(Retrieval{}, 0.5), DumpJson(nlohmann::json{{"results", nlohmann::json::array()}, {"took_ms", 0.5}}));
}

}  // namespace
}  // namespace savoir
