// A llama.cpp context made for pooled outputs — one vector (embeddings) or
// one score (rerank) per sequence of a batch — and that batch. Shared by
// LlamaEmbedder and LlamaReranker, which differ in how they fill the batch
// and read the outputs, not in how the pass runs.
#pragma once

#include <llama.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "embed/llama_model.h"

namespace savoir {

struct LlamaPooledContext {
  llama_context* ctx = nullptr;
  llama_batch batch{};

  // A context and batch of `pass_tokens` tokens for up to `max_seqs`
  // sequences (decoders share one cache across them), pooling as given
  // (LLAMA_POOLING_TYPE_UNSPECIFIED: the model's own), on `threads` threads.
  static Result<std::unique_ptr<LlamaPooledContext>> Open(const LlamaModel& model, int pass_tokens, int max_seqs,
                                                           enum llama_pooling_type pooling, int threads);
  ~LlamaPooledContext();

  // One forward pass over `batch`: encoders (BERT, XLM-RoBERTa) keep no
  // cache and encode; decoders decode after their cache is cleared. A
  // failure says "llama.cpp failed to <what>" with llama.cpp's own message.
  Status Run(const std::string& what);
};

}  // namespace savoir
