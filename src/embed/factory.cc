#include "embed/factory.h"

#include "embed/bedrock_embedder.h"
#include "embed/openai_embedder.h"
#include "net/openai_http.h"
#include "embed/llama_embedder.h"

namespace savoir {

namespace {

Result<std::unique_ptr<Embedder>> MakeOpenAi(const Config& config) {
  if (config.embed_url.empty())
    return Status(ErrorKind::kInvalidArgument,
                  "--embedder openai needs --embed-url, the endpoint's base URL (e.g. http://127.0.0.1:8082/v1)");
  if (config.embed_model.empty())
    return Status(ErrorKind::kInvalidArgument,
                  "--embedder openai needs --embed-model, the embedding model name the endpoint serves");
  OpenAiEmbedderConfig c;
  SAVOIR_ASSIGN_OR_RETURN(c.base_url, NormalizeBaseUrl(config.embed_url, "--embed-url"));
  SAVOIR_ASSIGN_OR_RETURN(c.api_key, ReadApiKeyFile(config.embed_api_key_file, "--embed-api-key-file"));
  c.model = config.embed_model;
  c.http.idle_timeout_ms = config.model_idle_timeout_s * 1000;
  auto e = MakeOpenAiEmbedder(std::move(c));
  if (!e.ok()) return Status(e.status().kind(), "--embedder openai: " + e.status().message());
  return e;
}

}  // namespace

Result<std::unique_ptr<Embedder>> MakeEmbedder(const Config& config) {
  if (config.embedder.empty()) return std::unique_ptr<Embedder>();
  if (config.embedder == "bedrock") return MakeBedrockEmbedder(config);
  // One branch per kind: "llama" (embed/llama_embedder), "openai"
  // (embed/openai_embedder), "bedrock" (embed/bedrock_embedder).
  if (config.embedder == "openai") return MakeOpenAi(config);
  if (config.embedder == "llama") {
    LlamaEmbedderOptions options;
    options.threads = config.llama_threads;
    auto e = LlamaEmbedder::Open(config.embed_model, options);
    if (!e.ok()) return e.status();
    return std::unique_ptr<Embedder>(std::move(*e));
  }
  return Status(ErrorKind::kUnsupported, "--embedder " + config.embedder + " is not available in this build");
}

}  // namespace savoir
