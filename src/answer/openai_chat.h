// A ChatModel over an OpenAI-compatible chat completions endpoint (Ollama,
// vLLM, llama.cpp's llama-server, or any provider speaking the protocol):
// POST {base}/chat/completions with "stream": true, read as Server-Sent
// Events (chat.completion.chunk objects, then "data: [DONE]"). Token usage
// comes from the final chunk when the server honours
// stream_options.include_usage, otherwise it is counted (one token per
// content chunk, the prompt estimated at bytes / 4).
#pragma once

#include <memory>
#include <string>

#include "answer/chat_model.h"
#include "net/http_client.h"

namespace savoir {

struct OpenAiChatConfig {
  std::string base_url;  // "http://127.0.0.1:8081/v1", no trailing slash
  std::string model;     // sent as "model"
  std::string api_key;   // empty: no Authorization header
  int context_tokens = 0;  // 0: asked from the server (llama-server /props, vLLM /models), else unknown
  HttpOptions http = DefaultChatHttpOptions();

  // Few quick retries (an answer falls back to the extractive one rather
  // than waiting), no rate limit, a long whole-request limit for generation.
  static HttpOptions DefaultChatHttpOptions();
};

std::unique_ptr<ChatModel> MakeOpenAiChat(OpenAiChatConfig config);

}  // namespace savoir
