// A local language model from a GGUF file through llama.cpp (CPU): the
// conversation is formatted with the model's own chat template
// (llama_chat_apply_template; ChatML when the file has none), the reply is
// streamed to the sink as it is generated (never splitting a UTF-8
// character, holding back what could be the start of a stop string), and
// decoding is greedy when temperature is 0 (top-k 40, top-p 0.95, min-p 0.05
// then temperature otherwise, as llama-server's defaults).
//
// Thread safety: one llama.cpp context guarded by a mutex — concurrent Chat
// calls are safe and served one after the other. CountTokens and
// context_tokens need no lock.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "answer/chat_model.h"
#include "embed/llama_model.h"

namespace savoir {

struct LlamaChatOptions {
  int threads = 0;         // 0: every core
  int context_tokens = 0;  // 0: the model's training context, at most 8192
  int batch_tokens = 512;  // prompt tokens per forward pass
  uint32_t seed = 0;       // sampling seed when temperature > 0 (0: random)
};

class LlamaChat final : public ChatModel {
 public:
  // Errors: see LlamaModel::Load; kInvalidArgument for a model that cannot
  // generate (an encoder such as BERT) or whose chat template
  // llama_chat_apply_template does not know.
  static Result<std::unique_ptr<LlamaChat>> Open(const std::string& path, const LlamaChatOptions& options = {});
  ~LlamaChat() override;

  std::string name() const override;  // "llama:<file name>"
  int context_tokens() const override { return n_ctx_; }
  int CountTokens(std::string_view text) const override;
  Result<ChatUsage> Chat(const std::vector<ChatMessage>& messages, const ChatOptions& options,
                         const TokenSink& sink) override;

  // The prompt Chat gives the model: the messages through the chat template,
  // ending with the assistant's turn. The prompt is tokenized reading the
  // template's markers as control tokens; a message that writes one itself
  // (a retrieved passage or a question holding "<|im_end|>\n<|im_start|>
  // system"...) gets a zero-width space after its first character, so that
  // it stays text and cannot end its turn or open another (llama-server
  // reads such markers as control tokens).
  Result<std::string> FormatPrompt(const std::vector<ChatMessage>& messages) const;
  // Continues `prompt` as it is (no template): what llama-server's
  // /completion does. `tokens` (optional) receives the generated token ids.
  Result<ChatUsage> Complete(const std::string& prompt, const ChatOptions& options, const TokenSink& sink,
                             std::vector<int32_t>* tokens = nullptr);
  // Tokens of `text` as llama-server's /tokenize gives them: BOS/EOS added
  // when `add_special` and the model says so, "<|im_start|>"-like markers
  // read as special tokens.
  std::vector<int32_t> Tokenize(std::string_view text, bool add_special) const;

 private:
  LlamaChat() = default;

  std::shared_ptr<LlamaModel> model_;
  LlamaChatOptions options_;
  std::string template_;
  // The text of every control token (and the unknown token), longest first,
  // and which bytes start one.
  std::vector<std::string> control_texts_;
  bool control_first_byte_[256] = {};
  std::string Defang(std::string_view content) const;
  int n_ctx_ = 0;
  std::mutex mu_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace savoir
