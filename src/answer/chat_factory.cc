#include "answer/chat_factory.h"

#include "answer/bedrock_chat.h"
#include "answer/llama_chat.h"

namespace savoir {

Result<std::unique_ptr<ChatModel>> MakeChatModel(const Config& config) {
  if (config.chat.empty()) return std::unique_ptr<ChatModel>();
  if (config.chat == "bedrock") return MakeBedrockChat(config);
  // One branch per kind: "llama" (answer/llama_chat), "openai"
  // (answer/openai_chat), "bedrock" (answer/bedrock_chat).
  if (config.chat == "llama") {
    LlamaChatOptions options;
    options.threads = config.llama_threads;
    auto c = LlamaChat::Open(config.chat_model, options);
    if (!c.ok()) return c.status();
    return std::unique_ptr<ChatModel>(std::move(*c));
  }
  return Status(ErrorKind::kUnsupported, "--chat " + config.chat + " is not available in this build");
}

}  // namespace savoir
