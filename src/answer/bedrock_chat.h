// ChatModel over AWS Bedrock Converse (one JSON answer) and ConverseStream
// (the answer streamed in application/vnd.amazon.eventstream frames:
// messageStart, contentBlockDelta, messageStop, metadata with the usage;
// exception frames become errors). System messages go to "system"; the
// others alternate user/assistant as Converse requires (consecutive ones of
// one role are joined).
#pragma once

#include <memory>
#include <string>

#include "answer/chat_model.h"
#include "common/config.h"
#include "net/aws_bedrock_runtime.h"

namespace savoir {

struct BedrockChatConfig {
  std::string model_id;    // e.g. "anthropic.claude-3-haiku-20240307-v1:0" or an inference profile ARN
  bool stream = true;      // ConverseStream; false: Converse
  int context_tokens = 0;  // 0: unknown
};

class BedrockChat : public ChatModel {
 public:
  BedrockChat(BedrockChatConfig config, std::shared_ptr<BedrockRuntime> runtime);
  std::string name() const override { return "bedrock:" + config_.model_id; }
  int context_tokens() const override { return config_.context_tokens; }
  int CountTokens(std::string_view text) const override { return static_cast<int>((text.size() + 3) / 4); }
  Result<ChatUsage> Chat(const std::vector<ChatMessage>& messages, const ChatOptions& options,
                         const TokenSink& sink) override;

  // The Converse request body (exposed for tests).
  static Result<std::string> RequestBody(const std::vector<ChatMessage>& messages, const ChatOptions& options);

 private:
  BedrockChatConfig config_;
  std::shared_ptr<BedrockRuntime> runtime_;
};

// --chat bedrock: --chat-model (required), --aws-region, --bedrock-endpoint.
Result<std::unique_ptr<ChatModel>> MakeBedrockChat(const Config& config);

}  // namespace savoir
