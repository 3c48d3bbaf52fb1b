// Language models behind one streaming interface. Implementations: local
// GGUF through llama.cpp (llama_chat), OpenAI-compatible chat completions
// (openai_chat: Ollama, vLLM, llama-server...), AWS Bedrock Converse /
// ConverseStream (bedrock_chat). The model answerer (model_answerer.h)
// builds the prompt, checks the citations and falls back to the extractive
// answer when the model is unavailable.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace savoir {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatOptions {
  int max_tokens = 512;
  double temperature = 0.2;
  std::vector<std::string> stop;
};

struct ChatUsage {
  std::string model;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  double latency_ms = 0;            // request sent -> last token
  double first_token_ms = 0;        // request sent -> first token
  std::string finish_reason;        // "stop", "length", "cancelled"...
};

// Receives text as it is produced; returning false cancels the generation.
using TokenSink = std::function<bool(std::string_view delta)>;

class ChatModel {
 public:
  virtual ~ChatModel() = default;
  virtual std::string name() const = 0;  // shown in answers and usage
  // Context window in tokens (0: unknown; the answerer then assumes 4096).
  virtual int context_tokens() const = 0;
  // Token count of `text` for budgeting: exact for local models, an
  // estimate (bytes / 4, rounded up) for remote ones.
  virtual int CountTokens(std::string_view text) const = 0;
  // Streams the reply through `sink`. Errors: kUnavailable (endpoint down,
  // 5xx after retries, model not loaded), kInvalidArgument (request
  // refused), kPermissionDenied (credentials).
  virtual Result<ChatUsage> Chat(const std::vector<ChatMessage>& messages, const ChatOptions& options,
                                 const TokenSink& sink) = 0;
};

}  // namespace savoir
