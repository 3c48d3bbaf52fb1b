#include "answer/answerer_factory.h"

#include "answer/chat_factory.h"
#include "answer/extractive.h"

namespace savoir {

std::unique_ptr<AnswerGenerator> Answerers::Make() const {
  if (!model) return MakeExtractiveAnswerer();
  return MakeModelAnswerer(model, MakeExtractiveAnswerer(), options);
}

Result<std::string> Answerers::Rewrite(const std::string& question, const std::vector<ChatTurn>& history,
                                       AnswerUsage* usage) const {
  if (!model) return question;
  return RewriteFollowUp(*model, question, history, options, usage);
}

Result<Answerers> MakeAnswerers(const Config& config) {
  Answerers a;
  auto model = MakeChatModel(config);
  if (!model.ok()) return model.status();
  a.model = std::shared_ptr<ChatModel>(std::move(*model));
  a.options.max_answer_tokens = config.answer_max_tokens;
  a.options.context_tokens = config.chat_context_tokens;
  return a;
}

}  // namespace savoir
