// The model answerer with a scripted in-test ChatModel: citation checking
// (also across delta boundaries), the token budget, the fallback to the
// extractive answer, follow-up rewriting.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "answer/extractive.h"
#include "answer/model_answerer.h"

namespace savoir {
namespace {

// Replies with `deltas`, or fails with `error` after `fail_after` deltas
// (-1: never). Records every call's messages and options.
class ScriptedModel : public ChatModel {
 public:
  struct Reply {
    std::vector<std::string> deltas;
    int fail_after = -1;
    ErrorKind error = ErrorKind::kUnavailable;
  };
  std::deque<Reply> replies;
  std::vector<std::vector<ChatMessage>> calls;
  std::vector<ChatOptions> options;
  int context = 4096;

  std::string name() const override { return "scripted"; }
  int context_tokens() const override { return context; }
  // One token per 4 bytes, like the remote estimate.
  int CountTokens(std::string_view text) const override { return static_cast<int>((text.size() + 3) / 4); }
  Result<ChatUsage> Chat(const std::vector<ChatMessage>& messages, const ChatOptions& opt,
                         const TokenSink& sink) override {
    calls.push_back(messages);
    options.push_back(opt);
    if (replies.empty()) return Status(ErrorKind::kInternal, "no scripted reply left");
    Reply r = replies.front();
    replies.pop_front();
    ChatUsage u;
    u.model = "scripted";
    u.prompt_tokens = 100;
    u.first_token_ms = 5;
    for (size_t i = 0; i < r.deltas.size(); ++i) {
      if (static_cast<int>(i) == r.fail_after) return Status(r.error, "connection refused (scripted)");
      ++u.completion_tokens;
      if (!sink(r.deltas[i])) {
        u.finish_reason = "cancelled";
        return u;
      }
    }
    if (r.fail_after >= static_cast<int>(r.deltas.size())) return Status(r.error, "connection refused (scripted)");
    u.latency_ms = 20;
    u.finish_reason = "stop";
    return u;
  }
};

Passage MakePassage(int n, std::string title, std::string text, uint32_t begin = 0) {
  Passage p;
  p.n = n;
  p.doc_id = 100 + n;
  p.chunk_id = 1000 + n;
  p.title = std::move(title);
  p.text = std::move(text);
  p.begin = begin;
  p.language = "en";
  return p;
}

AnswerRequest Request() {
  AnswerRequest r;
  r.question = "How long are backups kept?";
  r.language = "en";
  r.passages.push_back(MakePassage(1, "Backups", "Database backups are kept for 30 days.", 10));
  r.passages.push_back(MakePassage(2, "Security", "Laptops are encrypted with LUKS."));
  r.passages.push_back(MakePassage(3, "Holidays", "Holidays are booked in the HR portal."));
  return r;
}

struct Outcome {
  Result<Answer> answer = Status(ErrorKind::kInternal, "not run");
  std::string streamed;
  int pieces = 0;
};

Outcome Generate(std::shared_ptr<ScriptedModel> model, const AnswerRequest& req, ModelAnswererOptions opt = {}) {
  auto gen = MakeModelAnswerer(model, MakeExtractiveAnswerer(), opt);
  Outcome run;
  run.answer = gen->Generate(req, [&](std::string_view d) {
    run.streamed.append(d);
    ++run.pieces;
    return true;
  });
  return run;
}

std::string StreamAll(const std::set<int>& valid, const std::vector<std::string>& deltas,
                      std::vector<int>* cited = nullptr) {
  CitationStream cs(valid);
  std::string out;
  for (const auto& d : deltas) out += cs.Push(d);
  out += cs.Finish();
  if (cited) *cited = cs.cited();
  return out;
}

TEST(CitationStream, KeepsValidDropsUnknownAndNormalizesLists) {
  std::vector<int> cited;
  EXPECT_EQ(StreamAll({1, 2}, {"Kept 30 days [1]. Not [7]. Both [2, 1]. Again [1]."}, &cited),
            "Kept 30 days [1]. Not. Both [2][1]. Again [1].");
  EXPECT_EQ(cited, (std::vector<int>{1, 2}));
  // Brackets that are not citations pass unchanged.
  EXPECT_EQ(StreamAll({1}, {"See [note] and [a1] or [] or [1 2] x[1]"}), "See [note] and [a1] or [] or [1 2] x[1]");
  // A list mixing valid and unknown numbers keeps the valid ones.
  EXPECT_EQ(StreamAll({3}, {"Mixed [3, 12]."}), "Mixed [3].");
  // An unfinished marker at the very end is text.
  EXPECT_EQ(StreamAll({1}, {"Cut at [1"}), "Cut at [1");
  EXPECT_EQ(StreamAll({1}, {"Ends with space [9]  "}), "Ends with space");
}

TEST(CitationStream, MarkerSplitAcrossDeltas) {
  std::vector<int> cited;
  EXPECT_EQ(StreamAll({1, 2}, {"Kept ", "[", "1", "]", " and", " [", "1", "0", "]", " not ", "[2", ",", " 9", "]", "."},
                      &cited),
            "Kept [1] and not [2].");
  EXPECT_EQ(cited, (std::vector<int>{1, 2}));
  // Nothing of a marker is shown before it is complete.
  CitationStream cs({1});
  EXPECT_EQ(cs.Push("Text ["), "Text");
  EXPECT_EQ(cs.Push("1"), "");
  EXPECT_EQ(cs.Push("]"), " [1]");
  EXPECT_EQ(cs.Push(" more"), " more");
  EXPECT_EQ(cs.Finish(), "");
  // A '[' that turns out not to be a marker is released.
  CitationStream cs2({1});
  EXPECT_EQ(cs2.Push("a [x"), "a [x");
  EXPECT_EQ(cs2.Push("[12"), "");
  EXPECT_EQ(cs2.Push("3456]"), "[123456]");  // too many digits: not a marker
}

TEST(ModelAnswerer, StreamsCitesAndDropsUnknownCitations) {
  auto model = std::make_shared<ScriptedModel>();
  model->replies.push_back({{"Backups are ", "kept 30 days [", "1]", " [", "4", "]. Laptops [2", "]."}});
  Outcome run = Generate(model, Request());
  ASSERT_TRUE(run.answer.ok()) << run.answer.status().ToString();
  const Answer& a = *run.answer;
  EXPECT_EQ(a.mode, "model");
  EXPECT_EQ(a.model, "scripted");
  EXPECT_EQ(a.text, "Backups are kept 30 days [1]. Laptops [2].");
  EXPECT_EQ(run.streamed, a.text);
  EXPECT_GT(run.pieces, 2);  // streamed, not in one piece
  ASSERT_EQ(a.citations.size(), 2u);
  EXPECT_EQ(a.citations[0].n, 1);
  EXPECT_EQ(a.citations[0].doc_id, 101);
  EXPECT_EQ(a.citations[0].chunk_id, 1001);
  EXPECT_EQ(a.citations[0].start, 10u);
  EXPECT_EQ(a.citations[0].end, 10u + Request().passages[0].text.size());
  EXPECT_EQ(a.citations[1].n, 2);
  EXPECT_TRUE(a.notice.empty());
  EXPECT_EQ(a.usage.model, "scripted");
  EXPECT_EQ(a.usage.prompt_tokens, 100);
  EXPECT_EQ(a.usage.completion_tokens, 7);
  EXPECT_EQ(a.usage.first_token_ms, 5);
  EXPECT_TRUE(a.usage.error.empty());

  // The prompt: instructions, the numbered passages with titles, the question.
  ASSERT_EQ(model->calls.size(), 1u);
  const auto& msgs = model->calls[0];
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].role, "system");
  EXPECT_NE(msgs[0].content.find("[n]"), std::string::npos);
  EXPECT_NE(msgs[0].content.find("do not contain the answer"), std::string::npos);
  EXPECT_NE(msgs[0].content.find("English"), std::string::npos);
  EXPECT_EQ(msgs[1].role, "user");
  EXPECT_NE(msgs[1].content.find("[1] Backups\nDatabase backups are kept for 30 days."), std::string::npos);
  EXPECT_NE(msgs[1].content.find("[3] Holidays\n"), std::string::npos);
  EXPECT_NE(msgs[1].content.find("Question: How long are backups kept?"), std::string::npos);
}

TEST(ModelAnswerer, AnswersInTheQuestionsLanguage) {
  auto model = std::make_shared<ScriptedModel>();
  model->replies.push_back({{"Trente jours [1]."}});
  AnswerRequest req = Request();
  req.language = "fr";
  req.question = "Combien de temps gardons-nous les sauvegardes ?";
  ASSERT_TRUE(Generate(model, req).answer.ok());
  EXPECT_NE(model->calls[0][0].content.find("Answer in French"), std::string::npos);
}

TEST(ModelAnswerer, FallsBackToTheExtractiveAnswerWhenUnavailable) {
  auto model = std::make_shared<ScriptedModel>();
  model->replies.push_back({{"never shown"}, 0, ErrorKind::kUnavailable});
  Outcome run = Generate(model, Request());
  ASSERT_TRUE(run.answer.ok());
  const Answer& a = *run.answer;
  EXPECT_EQ(a.mode, "extractive");
  EXPECT_EQ(a.notice, "The language model is unavailable; this answer is extracted from the sources.");
  EXPECT_EQ(run.streamed, a.text);
  EXPECT_EQ(run.streamed.find("never shown"), std::string::npos);
  EXPECT_NE(a.text.find("30 days"), std::string::npos) << a.text;
  EXPECT_FALSE(a.citations.empty());
  EXPECT_EQ(a.usage.model, "scripted");
  EXPECT_NE(a.usage.error.find("connection refused"), std::string::npos);

  // In French, the notice is French.
  model->replies.push_back({{}, 0, ErrorKind::kPermissionDenied});
  AnswerRequest fr = Request();
  fr.language = "fr";
  Outcome run_fr = Generate(model, fr);
  ASSERT_TRUE(run_fr.answer.ok());
  EXPECT_EQ(run_fr.answer->notice, ModelUnavailableNotice("fr"));
  EXPECT_NE(run_fr.answer->notice.find("indisponible"), std::string::npos);

  // Blank output counts as no answer.
  model->replies.push_back({{"  ", "\n"}});
  Outcome blank = Generate(model, Request());
  ASSERT_TRUE(blank.answer.ok());
  EXPECT_EQ(blank.answer->mode, "extractive");
  EXPECT_FALSE(blank.answer->notice.empty());
}

TEST(ModelAnswerer, FailureMidAnswerKeepsWhatWasShown) {
  auto model = std::make_shared<ScriptedModel>();
  model->replies.push_back({{"Backups are kept ", "30 days [1]", " and"}, 2});
  Outcome run = Generate(model, Request());
  ASSERT_TRUE(run.answer.ok());
  EXPECT_EQ(run.answer->mode, "model");
  EXPECT_EQ(run.answer->text, "Backups are kept 30 days [1]");
  EXPECT_EQ(run.streamed, run.answer->text);
  EXPECT_FALSE(run.answer->notice.empty());
  EXPECT_FALSE(run.answer->usage.error.empty());
  ASSERT_EQ(run.answer->citations.size(), 1u);
}

TEST(ModelAnswerer, NoPassagesNoModelCall) {
  auto model = std::make_shared<ScriptedModel>();
  AnswerRequest req = Request();
  req.passages.clear();
  Outcome run = Generate(model, req);
  ASSERT_TRUE(run.answer.ok());
  EXPECT_TRUE(model->calls.empty());
  EXPECT_EQ(run.answer->text, NoAnswerText("en"));
  EXPECT_TRUE(run.answer->citations.empty());
}

TEST(ModelAnswerer, ClientLeavingStopsTheModel) {
  auto model = std::make_shared<ScriptedModel>();
  model->replies.push_back({{"one ", "two ", "three ", "four"}});
  auto gen = MakeModelAnswerer(model, MakeExtractiveAnswerer());
  int calls = 0;
  auto a = gen->Generate(Request(), [&](std::string_view) { return ++calls < 2; });
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(a->mode, "model");
}

TEST(AnswerBudget, DropsLowestRankedThenTruncates) {
  ScriptedModel model;
  AnswerRequest req = Request();
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "Backup policy sentence number " + std::to_string(i) + ". ";
  req.passages[0].text = long_text;  // ~1,700 tokens
  ModelAnswererOptions opt;
  opt.max_answer_tokens = 256;
  opt.estimate_margin = 0;  // CountTokens is exact here

  // Everything fits in a large window.
  opt.context_tokens = 8192;
  AnswerPrompt big = BuildAnswerPrompt(model, req, opt);
  EXPECT_EQ(big.passages.size(), 3u);
  EXPECT_EQ(big.max_tokens, 256);
  EXPECT_LE(big.prompt_tokens + big.max_tokens, 8192);

  // A smaller one: the lower-ranked passages go first, the top one is cut.
  opt.context_tokens = 1024;
  AnswerPrompt small = BuildAnswerPrompt(model, req, opt);
  ASSERT_EQ(small.passages.size(), 1u);
  EXPECT_EQ(small.passages[0].n, 1);
  EXPECT_LT(small.passages[0].text.size(), long_text.size());
  EXPECT_EQ(long_text.rfind(small.passages[0].text, 0), 0u);  // a prefix
  EXPECT_LE(small.prompt_tokens + small.max_tokens, 1024);
  EXPECT_GT(small.prompt_tokens + small.max_tokens, 1024 - 64);  // the room is used

  // Short passages after a fitting one are kept in rank order until full.
  req = Request();
  for (auto& p : req.passages) p.text = std::string(1200, 'x');  // 300 tokens each
  opt.context_tokens = 1200;
  opt.max_answer_tokens = 300;
  opt.min_truncated_passage_tokens = 10000;  // no partial passage here
  AnswerPrompt two = BuildAnswerPrompt(model, req, opt);
  ASSERT_EQ(two.passages.size(), 2u);
  EXPECT_EQ(two.passages[0].n, 1);
  EXPECT_EQ(two.passages[1].n, 2);
  EXPECT_LE(two.prompt_tokens + two.max_tokens, 1200);

  // The answer never takes more than half the window.
  opt.context_tokens = 400;
  opt.max_answer_tokens = 512;
  EXPECT_EQ(BuildAnswerPrompt(model, req, opt).max_tokens, 200);
}

TEST(AnswerBudget, ModelsWindowAndHistoryNewestFirst) {
  ScriptedModel model;
  model.context = 2048;
  AnswerRequest req = Request();
  for (int i = 0; i < 10; ++i) {
    req.history.push_back({"user", "question " + std::to_string(i) + std::string(400, 'q')});
    req.history.push_back({"assistant", "answer " + std::to_string(i) + std::string(400, 'a')});
  }
  ModelAnswererOptions opt;
  opt.max_answer_tokens = 256;
  AnswerPrompt p = BuildAnswerPrompt(model, req, opt);  // with the default 10 % margin
  EXPECT_EQ(p.context_tokens, 2048);
  ASSERT_GT(p.history_turns, 0u);
  EXPECT_LT(p.history_turns, 20u);
  // Kept turns are the newest, start with a user turn and end before the question.
  ASSERT_EQ(p.messages.size(), p.history_turns + 2);
  EXPECT_EQ(p.messages[1].role, "user");
  EXPECT_EQ(p.messages[p.messages.size() - 2].content.rfind("answer 9", 0), 0u);
  EXPECT_LE(p.prompt_tokens + p.max_tokens, 2048 - 204);
  EXPECT_EQ(p.passages.size(), 3u);  // history never pushes passages out here

  // Unknown window: 4096.
  model.context = 0;
  EXPECT_EQ(BuildAnswerPrompt(model, Request(), opt).context_tokens, 4096);
}

TEST(RewriteFollowUp, UsesHistoryAndCleansTheReply) {
  ScriptedModel model;
  model.replies.push_back({{"Query: \"How long are ", "database backups kept for part-time staff?\"", "\nextra"}});
  std::vector<ChatTurn> history = {{"user", "How long are database backups kept?"},
                                   {"assistant", "They are kept 30 days [1]."}};
  AnswerUsage usage;
  auto q = RewriteFollowUp(model, "and for part-time staff?", history, {}, &usage);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(*q, "How long are database backups kept for part-time staff?");
  ASSERT_EQ(model.calls.size(), 1u);
  const std::string& prompt = model.calls[0].back().content;
  EXPECT_NE(prompt.find("User: How long are database backups kept?"), std::string::npos);
  EXPECT_NE(prompt.find("Assistant: They are kept 30 days [1]."), std::string::npos);
  EXPECT_NE(prompt.find("Last question: and for part-time staff?"), std::string::npos);
  EXPECT_EQ(model.options[0].max_tokens, 64);
  EXPECT_EQ(usage.model, "scripted");
  EXPECT_EQ(usage.completion_tokens, 3);

  // Without history: the question itself, no call.
  auto same = RewriteFollowUp(model, "How long are backups kept?", {}, {}, &usage);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, "How long are backups kept?");
  EXPECT_EQ(model.calls.size(), 1u);

  // The model down: its error, recorded in the usage.
  model.replies.push_back({{}, 0});
  AnswerUsage failed;
  auto down = RewriteFollowUp(model, "and for interns?", history, {}, &failed);
  EXPECT_FALSE(down.ok());
  EXPECT_EQ(down.status().kind(), ErrorKind::kUnavailable);
  EXPECT_FALSE(failed.error.empty());

  // An empty reply is an error, not an empty query.
  model.replies.push_back({{"  \n"}});
  EXPECT_FALSE(RewriteFollowUp(model, "and for interns?", history, {}, nullptr).ok());
}

}  // namespace
}  // namespace savoir
