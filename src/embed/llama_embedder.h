// Local embeddings from a GGUF file through llama.cpp (CPU). Encoder models
// (BERT family: bge, MiniLM, e5...) and decoder embedding models (pooling
// "last"/"mean" in their metadata, e.g. Qwen3-Embedding) both work; the
// pooling comes from the model's metadata (`<arch>.pooling_type`), and every
// vector is L2-normalized (as llama-embedding and llama-server do by default).
// A model without a pooling type (a chat model) or a reranker is refused with
// a clear error.
//
// Texts are tokenized with the model's special tokens added (CLS/SEP, BOS) and
// markers in the text NOT read as special tokens (a document cannot inject
// "[SEP]"); a text longer than the model's context (or the batch) is cut,
// keeping the final SEP/EOS. Texts are packed into batches of up to
// `batch_tokens` tokens and `max_seqs` sequences, one forward pass each.
//
// Thread safety: one llama.cpp context per embedder, guarded by a
// PriorityLock taken for one forward pass at a time — concurrent Embed calls
// are safe; their passes run one after the other (each on every
// --llama-threads thread), and a query's pass (EmbedKind::kQuery) goes before
// any waiting passage pass: a search never waits for more than the one
// passage pass in progress, whatever the pipeline has queued.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "embed/embedder.h"
#include "embed/llama_model.h"
#include "embed/priority_lock.h"

namespace savoir {

struct LlamaPooledContext;

struct LlamaEmbedderOptions {
  int threads = 0;            // 0: every core
  // Texts are packed into forward passes of up to `batch_tokens` tokens (a
  // longer text goes alone). Attention over a packed pass costs its square:
  // 512 measured faster than 1024 on the tiny BERT (bench/embed_bench.sh).
  int batch_tokens = 512;
  int max_text_tokens = 1024;  // longer texts are cut (also: the model's context)
  int max_seqs = 32;           // texts per forward pass
};

class LlamaEmbedder final : public Embedder {
 public:
  // Errors: see LlamaModel::Load, plus kInvalidArgument for a model that is
  // not an embedding model.
  static Result<std::unique_ptr<LlamaEmbedder>> Open(const std::string& path, const LlamaEmbedderOptions& options = {});
  ~LlamaEmbedder() override;

  std::string model_id() const override;  // "llama:<file name>:<sha256 prefix>"
  int dimensions() const override { return dims_; }
  size_t max_batch() const override { return static_cast<size_t>(options_.max_seqs); }
  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts, EmbedKind kind) override;

  // The tokens Embed feeds the model for `text` (after truncation), for tests.
  std::vector<int32_t> Tokens(std::string_view text) const;
  // "mean", "cls", "last"... as read from the model.
  std::string pooling_name() const;
  const LlamaModel& model() const { return *model_; }

  // Tests: called with the context held, before each forward pass, with the
  // kind of the texts in it and their count (set before any Embed call).
  void SetPassObserverForTest(std::function<void(EmbedKind, int n_texts)> f) { on_pass_ = std::move(f); }
  // Embed calls waiting for the context now, by kind (tests, status).
  size_t waiting(EmbedKind kind) const {
    return lock_.waiting(kind == EmbedKind::kQuery ? PriorityLock::Priority::kHigh : PriorityLock::Priority::kLow);
  }

 private:
  LlamaEmbedder() = default;
  Status RunBatch(int n_seqs, std::vector<std::vector<float>>& out, size_t first);

  std::shared_ptr<LlamaModel> model_;
  LlamaEmbedderOptions options_;
  int dims_ = 0;
  int max_tokens_ = 0;  // per text
  int pooling_ = 0;     // llama_pooling_type
  std::string query_prefix_, passage_prefix_;
  mutable PriorityLock lock_;  // the context and batch below: one forward pass at a time
  std::function<void(EmbedKind, int)> on_pass_;
  std::unique_ptr<LlamaPooledContext> impl_;  // context + batch
};

}  // namespace savoir
