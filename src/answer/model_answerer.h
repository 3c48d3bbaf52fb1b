// The answerer with a language model: builds the prompt (instructions, the
// retrieved passages numbered [n] with their titles, the chat history),
// keeps it within the model's context (a token budget for the passages, the
// history and the answer), streams the reply with its [n] markers checked
// against the passages actually given (an [n] that names no given passage is
// dropped from the text and from the citations), and falls back to the
// extractive answer, with a visible notice, when the model fails before its
// first token. Follow-up questions are rewritten into stand-alone search
// queries by a separate short call (RewriteFollowUp), which the server makes
// BEFORE retrieval.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "answer/answer.h"
#include "answer/chat_model.h"

namespace savoir {

struct ModelAnswererOptions {
  int max_answer_tokens = 512;   // reserved for the answer (at most half the context)
  int context_tokens = 0;        // 0: the model's context_tokens(), else 4096
  double temperature = 0.2;
  size_t max_history_turns = 8;  // newest kept first, within a quarter of the budget
  size_t max_turn_bytes = 2000;  // longer history turns are cut
  int min_truncated_passage_tokens = 128;  // a partly fitting passage is cut only if this much fits
  int rewrite_max_tokens = 64;
  // Share of the context kept free because remote models' CountTokens is an
  // estimate (bytes / 4) that a real tokenizer may exceed.
  double estimate_margin = 0.1;
  std::string instructions;      // empty: DefaultAnswerInstructions(language)
};

// The system prompt: answer only from the numbered passages, cite them as
// [n], say when they do not hold the answer, answer in the question's language.
std::string DefaultAnswerInstructions(std::string_view language);

// The notice shown when the model could not answer and the extractive
// answer stands in ("fr": in French).
std::string ModelUnavailableNotice(std::string_view language);

// The messages sent for one answer, within the token budget.
struct AnswerPrompt {
  std::vector<ChatMessage> messages;
  std::vector<Passage> passages;  // those given, in rank order; text possibly cut
  int max_tokens = 0;             // for the answer
  int prompt_tokens = 0;          // estimated with the model's CountTokens
  int context_tokens = 0;         // the window the budget was made for
  size_t history_turns = 0;       // turns of the history kept
};
AnswerPrompt BuildAnswerPrompt(const ChatModel& model, const AnswerRequest& request,
                               const ModelAnswererOptions& options);

// Streams text through while holding back what may be the start of a
// citation marker, so that a marker split across deltas ("[", "1", "]") is
// judged whole. Markers are "[n]" or "[n, m]" (written back as "[n][m]");
// numbers not in `valid` are dropped, a marker left empty disappears with
// the whitespace before it. Other brackets pass unchanged.
class CitationStream {
 public:
  explicit CitationStream(std::set<int> valid) : valid_(std::move(valid)) {}
  std::string Push(std::string_view delta);  // text that can be shown now
  std::string Finish();                      // the rest (trailing whitespace dropped)
  const std::vector<int>& cited() const { return cited_; }  // valid numbers, first use order
  int dropped() const { return dropped_; }   // numbers removed

 private:
  std::set<int> valid_;
  std::string pending_;  // an unfinished "[..." marker
  std::string space_;    // whitespace not shown yet (it goes if the next marker is dropped)
  std::vector<int> cited_;
  int dropped_ = 0;
};

// A follow-up ("and for part-time staff?") made stand-alone with the chat
// history by one short model call; the question itself when there is no
// history. `usage` receives the call's figures. Errors are the model's.
Result<std::string> RewriteFollowUp(ChatModel& model, const std::string& question,
                                    const std::vector<ChatTurn>& history, const ModelAnswererOptions& options,
                                    AnswerUsage* usage);

// `fallback` answers when the model cannot (usually the extractive answerer).
std::unique_ptr<AnswerGenerator> MakeModelAnswerer(std::shared_ptr<ChatModel> model,
                                                   std::unique_ptr<AnswerGenerator> fallback,
                                                   ModelAnswererOptions options = {});

}  // namespace savoir
