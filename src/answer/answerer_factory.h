// The answerer the configuration asks for: with --chat, the model answerer
// (falling back to the extractive one when the model is down); without, the
// extractive answerer. Shared by `savoir serve` and `savoir ask`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "answer/answer.h"
#include "answer/chat_model.h"
#include "answer/model_answerer.h"
#include "common/config.h"

namespace savoir {

struct Answerers {
  std::shared_ptr<ChatModel> model;  // null: no language model configured
  ModelAnswererOptions options;

  // A new answerer (one per answer: generators may keep state).
  std::unique_ptr<AnswerGenerator> Make() const;
  // RewriteFollowUp with the model; the question unchanged without one.
  Result<std::string> Rewrite(const std::string& question, const std::vector<ChatTurn>& history,
                              AnswerUsage* usage) const;
};

// Errors are MakeChatModel's, prefixed with the option at fault.
Result<Answerers> MakeAnswerers(const Config& config);

}  // namespace savoir
