#include "answer/chat_factory.h"

#include "answer/bedrock_chat.h"
#include "answer/openai_chat.h"
#include "net/openai_http.h"
#include "answer/llama_chat.h"

namespace savoir {

namespace {

Result<std::unique_ptr<ChatModel>> MakeOpenAi(const Config& config) {
  if (config.chat_url.empty())
    return Status(ErrorKind::kInvalidArgument,
                  "--chat openai needs --chat-url, the endpoint's base URL (llama-server: http://127.0.0.1:8081/v1, "
                  "Ollama: http://127.0.0.1:11434/v1)");
  if (config.chat_model.empty())
    return Status(ErrorKind::kInvalidArgument,
                  "--chat openai needs --chat-model, the model name the endpoint serves (e.g. llama3.1:8b for "
                  "Ollama; any name for llama-server)");
  OpenAiChatConfig c;
  SAVOIR_ASSIGN_OR_RETURN(c.base_url, NormalizeBaseUrl(config.chat_url, "--chat-url"));
  SAVOIR_ASSIGN_OR_RETURN(c.api_key, ReadApiKeyFile(config.chat_api_key_file, "--chat-api-key-file"));
  c.model = config.chat_model;
  c.http.idle_timeout_ms = config.model_idle_timeout_s * 1000;
  c.context_tokens = config.chat_context_tokens;
  return MakeOpenAiChat(std::move(c));
}

}  // namespace

Result<std::unique_ptr<ChatModel>> MakeChatModel(const Config& config) {
  if (config.chat.empty()) return std::unique_ptr<ChatModel>();
  if (config.chat == "bedrock") return MakeBedrockChat(config);
  // One branch per kind: "llama" (answer/llama_chat), "openai"
  // (answer/openai_chat), "bedrock" (answer/bedrock_chat).
  if (config.chat == "openai") return MakeOpenAi(config);
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
