#include "embed/factory.h"

#include "embed/bedrock_embedder.h"
#include "embed/llama_embedder.h"

namespace savoir {

Result<std::unique_ptr<Embedder>> MakeEmbedder(const Config& config) {
  if (config.embedder.empty()) return std::unique_ptr<Embedder>();
  if (config.embedder == "bedrock") return MakeBedrockEmbedder(config);
  // One branch per kind: "llama" (embed/llama_embedder), "openai"
  // (embed/openai_embedder), "bedrock" (embed/bedrock_embedder).
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
