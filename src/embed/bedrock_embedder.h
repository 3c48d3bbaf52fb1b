// Embedder over AWS Bedrock InvokeModel:
//  - Amazon Titan Text Embeddings ("amazon.titan-embed-text-v2:0": one text
//    per call, several calls in flight, {"inputText", "dimensions", "normalize": true}; v1 takes only
//    inputText),
//  - Cohere Embed ("cohere.embed-*": up to 96 texts per call, input_type
//    search_query / search_document, truncate END).
// Vectors are L2-normalized here whatever the model returns.
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "embed/embedder.h"
#include "net/aws_bedrock_runtime.h"

namespace savoir {

struct BedrockEmbedderConfig {
  std::string model_id;  // "amazon.titan-embed-text-v2:0", "cohere.embed-multilingual-v3"...
  int dimensions = 0;    // Titan v2: 256, 512 or 1024 (0: the model's default); probed when 0
  int concurrency = 8;   // Titan takes one text per call: this many calls in flight per batch
};

class BedrockEmbedder : public Embedder {
 public:
  // Probes the model once (one short text) to learn its dimensions.
  static Result<std::unique_ptr<BedrockEmbedder>> Create(BedrockEmbedderConfig config,
                                                         std::shared_ptr<BedrockRuntime> runtime);
  std::string model_id() const override;
  int dimensions() const override { return dimensions_; }
  size_t max_batch() const override { return cohere_ ? 96 : 32; }
  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts, EmbedKind kind) override;

 private:
  BedrockEmbedder(BedrockEmbedderConfig config, std::shared_ptr<BedrockRuntime> runtime);
  Result<std::vector<float>> EmbedTitan(const std::string& text);
  Result<std::vector<std::vector<float>>> EmbedCohere(const std::vector<std::string>& texts, EmbedKind kind);

  BedrockEmbedderConfig config_;
  std::shared_ptr<BedrockRuntime> runtime_;
  bool cohere_ = false, titan_v1_ = false;
  int dimensions_ = 0;
};

// --embedder bedrock: --embed-model (required), --aws-region, --bedrock-endpoint.
Result<std::unique_ptr<Embedder>> MakeBedrockEmbedder(const Config& config);

}  // namespace savoir
