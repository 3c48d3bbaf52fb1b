// A local cross-encoder reranker: a GGUF model with rank pooling (BERT /
// XLM-RoBERTa cross-encoders such as bge-reranker or ms-marco MiniLM, with
// their classification head; decoder rerankers with a "rerank" template)
// run through llama.cpp on the CPU. The score of a (query, document) pair is
// the model's first classification output, as llama-server --reranking
// answers it at /v1/rerank (a raw logit: higher is more relevant).
//
// Pair input, as llama-server builds it (tools/server/server-common.cpp,
// format_prompt_rerank):
// - the model has a "rerank" chat template (tokenizer.chat_template.rerank):
//   the template with {query} and {document} replaced; the template's own
//   markers are read as special tokens, the query's and the document's are
//   not (a document cannot inject one; llama-server reads them in both);
// - otherwise: [BOS if the vocabulary adds one] query [EOS if it adds one]
//   [SEP if it adds one] document [EOS if it adds one], EOS falling back to
//   SEP (for BERT vocabularies: [CLS] query [SEP] document).
// A pair longer than the model's context (at most `max_pair_tokens`) is cut:
// the query to half of it at most, then the document's end.
//
// Pairs are packed into forward passes of up to `batch_tokens` tokens and
// `max_seqs` pairs. One llama.cpp context per reranker behind a mutex:
// concurrent Score calls are safe and run one after the other.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "embed/llama_model.h"
#include "retrieve/hybrid.h"

namespace savoir {

struct LlamaPooledContext;

struct LlamaRerankerOptions {
  int threads = 0;             // 0: every core (--llama-threads)
  int batch_tokens = 512;      // tokens per forward pass (a longer pair goes alone)
  int max_pair_tokens = 512;   // longer pairs are cut (also: the model's context)
  int max_seqs = 32;           // pairs per forward pass
};

class LlamaReranker final : public Reranker {
 public:
  // Errors: kNotFound (no such file), kInvalidArgument (not a GGUF file, a
  // GGUF llama.cpp cannot load, or a model that is not a reranker: an
  // embedding model, a chat model), naming --reranker-model.
  static Result<std::unique_ptr<LlamaReranker>> Open(const std::string& path,
                                                     const LlamaRerankerOptions& options = {});
  ~LlamaReranker() override;

  std::string name() const override;  // "llama:<file name>:<sha256 prefix>"
  Result<std::vector<float>> Score(const std::string& query, const std::vector<std::string>& documents) override;

  // The tokens of one (query, document) pair as Score feeds them (tests).
  std::vector<int32_t> PairTokens(std::string_view query, std::string_view document) const;
  // Forward passes run so far (tests: batching).
  size_t passes() const;
  const LlamaModel& model() const { return *model_; }

 private:
  LlamaReranker() = default;
  Status RunPass(int n_seqs, std::vector<float>& scores, size_t first);

  std::shared_ptr<LlamaModel> model_;
  LlamaRerankerOptions options_;
  int max_tokens_ = 0;
  // From the model's "rerank" template: the text around {query} and {document}.
  bool templated_ = false;
  std::string tpl_before_query_, tpl_between_, tpl_after_document_;
  bool query_first_ = true;
  mutable std::mutex mu_;
  size_t passes_ = 0;
  std::unique_ptr<LlamaPooledContext> impl_;  // context + batch
};

// The reranker the options name (--reranker, --reranker-url, --reranker-model),
// or nullptr for none. "" means remote when --reranker-url is set.
Result<std::unique_ptr<Reranker>> MakeReranker(const Config& config);

}  // namespace savoir
