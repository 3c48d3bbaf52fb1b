// Embedders: text -> dense vectors, in batches. Implementations: local GGUF
// through llama.cpp (llama_embedder), a remote OpenAI-compatible
// /v1/embeddings endpoint (openai_embedder), AWS Bedrock InvokeModel for
// Titan / Cohere (bedrock_embedder). The pipeline around them (cache by
// content hash, bounded queue, vector index catch-up) is embed/pipeline.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace savoir {

// Some models embed queries and passages differently (prefixes such as
// "query: " / "passage: ", Cohere's input_type); the embedder applies what
// its model needs.
enum class EmbedKind { kQuery, kPassage };

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Identifies the vector space: "llama:<file name>:<sha256 prefix>",
  // "openai:<base url>:<model>", "bedrock:<model id>". The embedding cache and
  // the vector index are keyed by it, so a different model never mixes vectors.
  virtual std::string model_id() const = 0;
  // Number of dimensions of the vectors returned (known after construction;
  // remote embedders probe once).
  virtual int dimensions() const = 0;
  // Largest batch Embed accepts at once (callers split larger ones).
  virtual size_t max_batch() const = 0;
  // One unit-length vector (L2-normalized) per text, in order. Thread-safe:
  // the embedding pipeline (passages) and searches (queries) call it at the
  // same time, without a lock of their own; an implementation that must
  // serialize work (one local model context) lets kQuery calls go first
  // (llama_embedder: a query waits for at most one forward pass).
  virtual Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts,
                                                        EmbedKind kind) = 0;
};

}  // namespace savoir
