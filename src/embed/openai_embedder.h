// An Embedder over an OpenAI-compatible POST {base}/embeddings endpoint
// (Ollama, vLLM, llama.cpp's `llama-server --embedding`, TEI): a batch of
// texts as the `input` list, float vectors back (reordered by their
// `index`), L2-normalized here when the server did not. The dimensions are
// probed once, at construction; model_id() is "openai:<base url>:<model>".
#pragma once

#include <memory>
#include <string>

#include "embed/embedder.h"
#include "net/http_client.h"

namespace savoir {

struct OpenAiEmbedderConfig {
  std::string base_url;  // "http://127.0.0.1:8082/v1", no trailing slash
  std::string model;
  std::string api_key;
  size_t max_batch = 64;
  HttpOptions http = DefaultEmbedHttpOptions();

  static HttpOptions DefaultEmbedHttpOptions();
};

// Fails (kUnavailable, kPermissionDenied...) when the probe request fails,
// so a misconfigured endpoint is reported at start-up.
Result<std::unique_ptr<Embedder>> MakeOpenAiEmbedder(OpenAiEmbedderConfig config);

}  // namespace savoir
