#include "embed/llama_embedder.h"

#include <llama.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "embed/llama_pooled.h"

namespace savoir {

namespace {

const char* PoolingName(int p) {
  switch (p) {
    case LLAMA_POOLING_TYPE_NONE: return "none";
    case LLAMA_POOLING_TYPE_MEAN: return "mean";
    case LLAMA_POOLING_TYPE_CLS: return "cls";
    case LLAMA_POOLING_TYPE_LAST: return "last";
    case LLAMA_POOLING_TYPE_RANK: return "rank";
    default: return "unknown";
  }
}

// Query/passage prefixes some embedding families were trained with; GGUF has
// no field for them, so they are recognized by the model's name.
void KnownPrefixes(const LlamaModel& m, std::string& query, std::string& passage) {
  std::string name = m.Meta("general.name") + " " + m.Meta("general.basename") + " " + m.file_name();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name.find("nomic-embed") != std::string::npos || name.find("nomic embed") != std::string::npos) {
    query = "search_query: ";
    passage = "search_document: ";
  } else if (name.find("e5-") != std::string::npos || name.find("e5 ") != std::string::npos) {
    query = "query: ";
    passage = "passage: ";
  }
}

}  // namespace

Result<std::unique_ptr<LlamaEmbedder>> LlamaEmbedder::Open(const std::string& path, const LlamaEmbedderOptions& options) {
  auto model = LlamaModel::Load(path, "--embed-model");
  if (!model.ok()) return model.status();
  const llama_model* m = (*model)->model();
  if (llama_model_has_encoder(m) && llama_model_has_decoder(m)) {
    return Status(ErrorKind::kUnsupported,
                  "--embed-model " + path + ": encoder-decoder models (T5...) cannot give embeddings here");
  }
  std::unique_ptr<LlamaEmbedder> e(new LlamaEmbedder());
  e->model_ = *model;
  e->options_ = options;
  e->options_.max_seqs = std::clamp(options.max_seqs, 1, static_cast<int>(llama_max_parallel_sequences()));
  const int n_ctx_train = llama_model_n_ctx_train(m);
  e->max_tokens_ = std::max(16, options.max_text_tokens);
  if (n_ctx_train > 0) e->max_tokens_ = std::min(e->max_tokens_, n_ctx_train);
  e->options_.batch_tokens = std::clamp(options.batch_tokens, 16, e->max_tokens_ * e->options_.max_seqs);
  // One forward pass holds a packed batch or one text of max_tokens_
  // (non-causal models need a whole pass in one ubatch).
  const int pass = std::max(e->options_.batch_tokens, e->max_tokens_);
  // Pooling as the model's metadata says.
  auto pc = LlamaPooledContext::Open(*e->model_, pass, e->options_.max_seqs, LLAMA_POOLING_TYPE_UNSPECIFIED,
                                     LlamaModel::Threads(options.threads));
  if (!pc.ok()) return pc.status();
  e->impl_ = std::move(pc).value();

  e->pooling_ = llama_pooling_type(e->impl_->ctx);
  if (e->pooling_ == LLAMA_POOLING_TYPE_NONE) {
    return Status(ErrorKind::kInvalidArgument,
                  "--embed-model " + path + " is not an embedding model: its metadata has no pooling type (" +
                      e->model_->Meta("general.architecture") +
                      ".pooling_type); chat models cannot embed — give an embedding model such as bge or e5");
  }
  if (e->pooling_ == LLAMA_POOLING_TYPE_RANK) {
    return Status(ErrorKind::kInvalidArgument,
                  "--embed-model " + path + " is a reranker (rank pooling), not an embedding model");
  }
  e->dims_ = llama_model_n_embd_out(m);
  KnownPrefixes(*e->model_, e->query_prefix_, e->passage_prefix_);
  return e;
}

LlamaEmbedder::~LlamaEmbedder() = default;

std::string LlamaEmbedder::model_id() const {
  return "llama:" + model_->file_name() + ":" + model_->sha256_prefix();
}

std::string LlamaEmbedder::pooling_name() const { return PoolingName(pooling_); }

std::vector<int32_t> LlamaEmbedder::Tokens(std::string_view text) const {
  std::vector<int32_t> t = model_->Tokenize(text, /*add_special=*/true, /*parse_special=*/false);
  const llama_vocab* v = model_->vocab();
  if (t.empty()) {
    // A decoder without BOS gives nothing for "": embed its end token instead.
    llama_token tok = llama_vocab_bos(v) != LLAMA_TOKEN_NULL ? llama_vocab_bos(v) : llama_vocab_eos(v);
    if (tok != LLAMA_TOKEN_NULL) t.push_back(tok);
  }
  if (static_cast<int>(t.size()) > max_tokens_) {
    int32_t last = t.back();
    bool keep_last = last == llama_vocab_sep(v) || last == llama_vocab_eos(v);
    t.resize(max_tokens_);
    if (keep_last) t.back() = last;
  }
  return t;
}

Status LlamaEmbedder::RunBatch(int n_seqs, std::vector<std::vector<float>>& out, size_t first) {
  llama_context* ctx = impl_->ctx;
  SAVOIR_RETURN_IF_ERROR(impl_->Run("embed a batch of " + std::to_string(n_seqs) + " texts"));
  for (int s = 0; s < n_seqs; ++s) {
    const float* v = llama_get_embeddings_seq(ctx, s);
    if (!v) return Status(ErrorKind::kInternal, "llama.cpp returned no pooled embedding for sequence " + std::to_string(s));
    double norm = 0;
    for (int i = 0; i < dims_; ++i) norm += static_cast<double>(v[i]) * v[i];
    norm = std::sqrt(norm);
    const float scale = norm > 0 ? static_cast<float>(1.0 / norm) : 0.0f;
    std::vector<float>& o = out[first + s];
    o.resize(dims_);
    for (int i = 0; i < dims_; ++i) o[i] = v[i] * scale;
  }
  return Status::Ok();
}

Result<std::vector<std::vector<float>>> LlamaEmbedder::Embed(const std::vector<std::string>& texts, EmbedKind kind) {
  std::vector<std::vector<float>> out(texts.size());
  const std::string& prefix = kind == EmbedKind::kQuery ? query_prefix_ : passage_prefix_;
  // Tokenized and packed without the context (the vocabulary is read-only);
  // the context is then taken once per forward pass, so a query waiting
  // (high priority) goes in between two passage passes.
  std::vector<std::vector<int32_t>> toks(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) toks[i] = prefix.empty() ? Tokens(texts[i]) : Tokens(prefix + texts[i]);
  std::vector<size_t> starts;  // first text of each pass
  int pass_tokens = 0, pass_seqs = 0;
  for (size_t i = 0; i < toks.size(); ++i) {
    const int n = static_cast<int>(toks[i].size());
    if (pass_seqs == 0 || pass_tokens + n > options_.batch_tokens || pass_seqs >= options_.max_seqs) {
      starts.push_back(i);
      pass_tokens = pass_seqs = 0;
    }
    pass_tokens += n;
    ++pass_seqs;
  }
  const auto priority = kind == EmbedKind::kQuery ? PriorityLock::Priority::kHigh : PriorityLock::Priority::kLow;
  for (size_t p = 0; p < starts.size(); ++p) {
    const size_t first = starts[p], end = p + 1 < starts.size() ? starts[p + 1] : toks.size();
    PriorityLock::Guard guard(lock_, priority);
    llama_batch& batch = impl_->batch;
    batch.n_tokens = 0;
    for (size_t i = first; i < end; ++i) {
      const int seq = static_cast<int>(i - first);
      for (size_t t = 0; t < toks[i].size(); ++t) {
        const int k = batch.n_tokens++;
        batch.token[k] = toks[i][t];
        batch.pos[k] = static_cast<int>(t);
        batch.n_seq_id[k] = 1;
        batch.seq_id[k][0] = seq;
        batch.logits[k] = true;
      }
    }
    if (on_pass_) on_pass_(kind, static_cast<int>(end - first));
    SAVOIR_RETURN_IF_ERROR(RunBatch(static_cast<int>(end - first), out, first));
  }
  return out;
}

}  // namespace savoir
