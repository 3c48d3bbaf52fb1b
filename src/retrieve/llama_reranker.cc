#include "retrieve/llama_reranker.h"

#include <llama.h>

#include <algorithm>

#include "common/file.h"
#include "embed/llama_pooled.h"

namespace savoir {

namespace {

// The text of `tpl` before, between and after its {query} and {document}
// placeholders (each once). False when the template has not exactly one of
// each.
bool SplitTemplate(const std::string& tpl, std::string& before, std::string& between, std::string& after,
                   bool& query_first) {
  const std::string q = "{query}", d = "{document}";
  size_t qp = tpl.find(q), dp = tpl.find(d);
  if (qp == std::string::npos || dp == std::string::npos) return false;
  if (tpl.find(q, qp + 1) != std::string::npos || tpl.find(d, dp + 1) != std::string::npos) return false;
  query_first = qp < dp;
  size_t first = std::min(qp, dp), first_len = query_first ? q.size() : d.size();
  size_t second = std::max(qp, dp), second_len = query_first ? d.size() : q.size();
  before = tpl.substr(0, first);
  between = tpl.substr(first + first_len, second - first - first_len);
  after = tpl.substr(second + second_len);
  return true;
}

}  // namespace

Result<std::unique_ptr<LlamaReranker>> LlamaReranker::Open(const std::string& path, const LlamaRerankerOptions& options) {
  auto model = LlamaModel::Load(path, "--reranker-model");
  if (!model.ok()) return model.status();
  const llama_model* m = (*model)->model();
  const std::string arch = (*model)->Meta("general.architecture");
  if (llama_model_has_encoder(m) && llama_model_has_decoder(m)) {
    return Status(ErrorKind::kInvalidArgument,
                  "--reranker-model " + path + ": encoder-decoder models (T5...) are not rerankers llama.cpp can run");
  }
  // A reranker says so with rank pooling, or (as convert_hf_to_gguf writes
  // sequence-classification cross-encoders without a pooling module) with
  // no pooling type but a classifier head's output labels. llama-server
  // --reranking forces rank pooling on any model; we refuse what would give
  // meaningless scores.
  const std::string pooling = (*model)->Meta((arch + ".pooling_type").c_str());
  const bool has_labels = !(*model)->Meta((arch + ".classifier.output_labels").c_str()).empty();
  const std::string rank = std::to_string(static_cast<int>(LLAMA_POOLING_TYPE_RANK));
  if (pooling != rank && !(pooling.empty() && has_labels)) {
    std::string what;
    if (pooling.empty() || pooling == std::to_string(static_cast<int>(LLAMA_POOLING_TYPE_NONE))) {
      what = "it has no pooling type and no classifier (" + arch + ".classifier.output_labels): a language model";
    } else {
      const char* names[] = {"none", "mean", "cls", "last", "rank"};
      int p = std::atoi(pooling.c_str());
      what = std::string("it is an embedding model (") + (p >= 0 && p <= 4 ? names[p] : pooling.c_str()) +
             " pooling, no classification head): give it to --embed-model";
    }
    return Status(ErrorKind::kInvalidArgument,
                  "--reranker-model " + path + " is not a reranker: " + what +
                      ". A reranker is a cross-encoder (bge-reranker, ms-marco MiniLM, jina-reranker...) "
                      "converted with its classification head (rank pooling)");
  }

  std::unique_ptr<LlamaReranker> r(new LlamaReranker());
  r->model_ = *model;
  r->options_ = options;
  r->options_.max_seqs = std::clamp(options.max_seqs, 1, static_cast<int>(llama_max_parallel_sequences()));
  const int n_ctx_train = llama_model_n_ctx_train(m);
  r->max_tokens_ = std::max(16, options.max_pair_tokens);
  if (n_ctx_train > 0) r->max_tokens_ = std::min(r->max_tokens_, n_ctx_train);
  r->options_.batch_tokens = std::clamp(options.batch_tokens, 16, r->max_tokens_ * r->options_.max_seqs);
  const int pass = std::max(r->options_.batch_tokens, r->max_tokens_);

  if (const char* tpl = llama_model_chat_template(m, "rerank")) {
    r->templated_ = SplitTemplate(tpl, r->tpl_before_query_, r->tpl_between_, r->tpl_after_document_, r->query_first_);
    if (!r->templated_) {
      return Status(ErrorKind::kInvalidArgument, "--reranker-model " + path +
                                                     ": its rerank template does not hold {query} and {document} once each");
    }
  }

  // Rank pooling, as llama-server --reranking.
  auto pc = LlamaPooledContext::Open(*r->model_, pass, r->options_.max_seqs, LLAMA_POOLING_TYPE_RANK,
                                     LlamaModel::Threads(options.threads));
  if (!pc.ok()) return pc.status();
  r->impl_ = std::move(pc).value();
  return r;
}

LlamaReranker::~LlamaReranker() = default;

std::string LlamaReranker::name() const { return "llama:" + model_->file_name() + ":" + model_->sha256_prefix(); }

size_t LlamaReranker::passes() const {
  std::lock_guard lock(mu_);
  return passes_;
}

std::vector<int32_t> LlamaReranker::PairTokens(std::string_view query, std::string_view document) const {
  const llama_vocab* v = model_->vocab();
  // Parts in order: fixed tokens, the query, fixed, the document, fixed.
  std::vector<int32_t> head, mid, tail;
  std::vector<int32_t> q = model_->Tokenize(query, false, false);
  std::vector<int32_t> d = model_->Tokenize(document, false, false);
  if (templated_ && model_->Tokenize(query, false, true) == q && model_->Tokenize(document, false, true) == d) {
    // No special-token text in the query or the document: the template
    // filled in and tokenized whole, as llama-server does. Tokenized in
    // pieces, a BPE vocabulary cuts differently where a piece ends (the
    // template's "<Query>: " then "Combien" is ":", " " then "Comb"...,
    // where the whole text gives ":", " Comb"...: other tokens, other scores).
    std::string text = tpl_before_query_;
    text.append(query_first_ ? query : document);
    text += tpl_between_;
    text.append(query_first_ ? document : query);
    text += tpl_after_document_;
    std::vector<int32_t> whole = model_->Tokenize(text, false, true);
    if (static_cast<int>(whole.size()) <= max_tokens_) return whole;
    // Too long for the context (llama-server refuses such a pair): the
    // pieces below, cut.
  }
  if (templated_) {
    head = model_->Tokenize(tpl_before_query_, false, true);
    mid = model_->Tokenize(tpl_between_, false, true);
    tail = model_->Tokenize(tpl_after_document_, false, true);
  } else {
    llama_token eos = llama_vocab_eos(v);
    if (eos == LLAMA_TOKEN_NULL) eos = llama_vocab_sep(v);
    if (llama_vocab_get_add_bos(v)) head.push_back(llama_vocab_bos(v));
    if (llama_vocab_get_add_eos(v)) mid.push_back(eos);
    if (llama_vocab_get_add_sep(v)) mid.push_back(llama_vocab_sep(v));
    if (llama_vocab_get_add_eos(v)) tail.push_back(eos);
  }
  const int fixed = static_cast<int>(head.size() + mid.size() + tail.size());
  const int room = std::max(0, max_tokens_ - fixed);
  if (static_cast<int>(q.size() + d.size()) > room) {
    // The query keeps what the document leaves, at least half the room.
    const size_t q_max = std::max(room / 2, room - static_cast<int>(std::min<size_t>(d.size(), room)));
    if (q.size() > q_max) q.resize(q_max);
    if (static_cast<int>(q.size() + d.size()) > room) d.resize(room - q.size());
  }
  const auto& first = templated_ && !query_first_ ? d : q;
  const auto& second = templated_ && !query_first_ ? q : d;
  std::vector<int32_t> out;
  out.reserve(fixed + q.size() + d.size());
  for (const std::vector<int32_t>* part : std::initializer_list<const std::vector<int32_t>*>{&head, &first, &mid, &second, &tail})
    out.insert(out.end(), part->begin(), part->end());
  if (static_cast<int>(out.size()) > max_tokens_) out.resize(max_tokens_);  // a template longer than the context
  return out;
}

Status LlamaReranker::RunPass(int n_seqs, std::vector<float>& scores, size_t first) {
  llama_context* ctx = impl_->ctx;
  ++passes_;
  SAVOIR_RETURN_IF_ERROR(impl_->Run("rerank a batch of " + std::to_string(n_seqs) + " pairs"));
  for (int s = 0; s < n_seqs; ++s) {
    const float* out = llama_get_embeddings_seq(ctx, s);
    if (!out) return Status(ErrorKind::kInternal, "llama.cpp returned no rerank score for pair " + std::to_string(s));
    scores[first + s] = out[0];
  }
  return Status::Ok();
}

Result<std::vector<float>> LlamaReranker::Score(const std::string& query, const std::vector<std::string>& documents) {
  std::vector<float> scores(documents.size());
  std::vector<std::vector<int32_t>> pairs(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) pairs[i] = PairTokens(query, documents[i]);
  std::lock_guard lock(mu_);
  llama_batch& batch = impl_->batch;
  batch.n_tokens = 0;
  int n_seqs = 0;
  size_t first = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const int n = static_cast<int>(pairs[i].size());
    if (n_seqs > 0 && (batch.n_tokens + n > options_.batch_tokens || n_seqs >= options_.max_seqs)) {
      SAVOIR_RETURN_IF_ERROR(RunPass(n_seqs, scores, first));
      batch.n_tokens = 0;
      n_seqs = 0;
      first = i;
    }
    for (int p = 0; p < n; ++p) {
      const int k = batch.n_tokens++;
      batch.token[k] = pairs[i][p];
      batch.pos[k] = p;
      batch.n_seq_id[k] = 1;
      batch.seq_id[k][0] = n_seqs;
      batch.logits[k] = true;
    }
    ++n_seqs;
  }
  if (n_seqs > 0) SAVOIR_RETURN_IF_ERROR(RunPass(n_seqs, scores, first));
  return scores;
}

Result<std::unique_ptr<Reranker>> MakeReranker(const Config& config) {
  std::string kind = config.reranker;
  if (kind.empty()) kind = config.reranker_url.empty() ? "" : "remote";
  if (kind.empty()) return std::unique_ptr<Reranker>();
  if (kind == "remote") {
    if (config.reranker_url.empty())
      return Status(ErrorKind::kInvalidArgument,
                    "--reranker remote needs --reranker-url, the full URL of a /rerank endpoint "
                    "(e.g. http://127.0.0.1:8083/v1/rerank)");
    if (config.reranker_url.rfind("http://", 0) != 0 && config.reranker_url.rfind("https://", 0) != 0)
      return Status(ErrorKind::kInvalidArgument,
                    "--reranker-url must be an http:// or https:// URL, got '" + config.reranker_url + "'");
    std::string key;
    if (!config.reranker_api_key_file.empty()) {
      auto k = ReadFile(config.reranker_api_key_file);
      if (!k.ok())
        return Status(k.status().kind(), "--reranker-api-key-file: " + k.status().message());
      key = std::move(*k);
      while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
    }
    return MakeRemoteReranker(config.reranker_url, key, config.reranker_model);
  }
  if (kind == "llama") {
    if (config.reranker_model.empty())
      return Status(ErrorKind::kInvalidArgument,
                    "--reranker llama needs --reranker-model, the path of a GGUF cross-encoder (e.g. bge-reranker)");
    LlamaRerankerOptions o;
    o.threads = config.llama_threads;
    auto r = LlamaReranker::Open(config.reranker_model, o);
    if (!r.ok()) return r.status();
    return std::unique_ptr<Reranker>(std::move(*r));
  }
  return Status(ErrorKind::kUnsupported, "--reranker " + kind + " is not available in this build");
}

}  // namespace savoir
