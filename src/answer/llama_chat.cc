#include "answer/llama_chat.h"

#include <llama.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

namespace savoir {

struct LlamaChat::Impl {
  llama_context* ctx = nullptr;
  ~Impl() {
    if (ctx) llama_free(ctx);
  }
};

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Length of the longest prefix of `s` that ends on a UTF-8 character
// boundary (an incomplete multi-byte sequence at the end is held back).
size_t CompleteUtf8Prefix(std::string_view s) {
  size_t n = s.size();
  // Look back at most 3 bytes for the lead byte of the last character.
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    size_t need = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    return back >= need ? n : n - back;
  }
  return n;
}

struct SamplerDeleter {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};

}  // namespace

Result<std::unique_ptr<LlamaChat>> LlamaChat::Open(const std::string& path, const LlamaChatOptions& options) {
  auto model = LlamaModel::Load(path, "--chat-model");
  if (!model.ok()) return model.status();
  const llama_model* m = (*model)->model();
  const std::string arch = (*model)->Meta("general.architecture");
  const std::string pooling = (*model)->Meta((arch + ".pooling_type").c_str());
  if (!llama_model_has_decoder(m) || llama_model_has_encoder(m) ||
      (*model)->Meta((arch + ".attention.causal").c_str()) == "false") {
    return Status(ErrorKind::kInvalidArgument,
                  "--chat-model " + path + " cannot generate text: " + arch + " is an encoder (an embedding model?)");
  }
  if (!pooling.empty() && pooling != "0") {
    return Status(ErrorKind::kInvalidArgument, "--chat-model " + path +
                                                   " is an embedding model (its metadata sets a pooling type), not a "
                                                   "chat model");
  }
  std::unique_ptr<LlamaChat> c(new LlamaChat());
  c->model_ = *model;
  c->options_ = options;
  const char* tmpl = llama_model_chat_template(m, nullptr);
  c->template_ = tmpl ? tmpl : "chatml";  // llama-server falls back to ChatML too
  {
    llama_chat_message probe{"user", "x"};
    if (llama_chat_apply_template(c->template_.c_str(), &probe, 1, true, nullptr, 0) < 0) {
      return Status(ErrorKind::kInvalidArgument, "--chat-model " + path +
                                                     ": its chat template is not one llama_chat_apply_template knows");
    }
  }
  {
    const llama_vocab* v = (*model)->vocab();
    for (llama_token t = 0; t < llama_vocab_n_tokens(v); ++t) {
      if (!(llama_vocab_get_attr(v, t) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_UNKNOWN))) continue;
      const char* text = llama_vocab_get_text(v, t);
      if (text && std::strlen(text) >= 2) c->control_texts_.emplace_back(text);
    }
    std::sort(c->control_texts_.begin(), c->control_texts_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const std::string& t : c->control_texts_) c->control_first_byte_[static_cast<unsigned char>(t[0])] = true;
  }
  const int n_train = llama_model_n_ctx_train(m);
  int n_ctx = options.context_tokens > 0 ? options.context_tokens : std::min(n_train > 0 ? n_train : 4096, 8192);
  const int threads = LlamaModel::Threads(options.threads);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(n_ctx);
  cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(std::clamp(options.batch_tokens, 16, n_ctx));
  cp.n_seq_max = 1;
  cp.n_threads = cp.n_threads_batch = threads;
  cp.no_perf = true;
  auto ctx = c->model_->NewContext(&cp);
  if (!ctx.ok()) return ctx.status();
  c->impl_ = std::make_unique<Impl>();
  c->impl_->ctx = *ctx;
  c->n_ctx_ = static_cast<int>(llama_n_ctx(*ctx));
  return c;
}

LlamaChat::~LlamaChat() = default;

std::string LlamaChat::name() const { return "llama:" + model_->file_name(); }

int LlamaChat::CountTokens(std::string_view text) const {
  return static_cast<int>(model_->Tokenize(text, /*add_special=*/false, /*parse_special=*/false).size());
}

std::vector<int32_t> LlamaChat::Tokenize(std::string_view text, bool add_special) const {
  return model_->Tokenize(text, add_special, /*parse_special=*/true);
}

std::string LlamaChat::Defang(std::string_view content) const {
  std::string out;
  out.reserve(content.size());
  for (size_t i = 0; i < content.size();) {
    if (control_first_byte_[static_cast<unsigned char>(content[i])]) {
      const std::string* hit = nullptr;
      for (const std::string& t : control_texts_)  // longest first
        if (content.compare(i, t.size(), t) == 0) {
          hit = &t;
          break;
        }
      if (hit) {
        // The first character (whole, if it is multi-byte), U+200B, the rest.
        size_t first = 1;
        while (first < hit->size() && (static_cast<unsigned char>((*hit)[first]) & 0xC0) == 0x80) ++first;
        out.append(*hit, 0, first);
        out += "\xE2\x80\x8B";
        out.append(*hit, first, std::string::npos);
        i += hit->size();
        continue;
      }
    }
    out.push_back(content[i++]);
  }
  return out;
}

Result<std::string> LlamaChat::FormatPrompt(const std::vector<ChatMessage>& messages) const {
  std::vector<llama_chat_message> msgs;
  msgs.reserve(messages.size());
  std::vector<std::string> contents;
  contents.reserve(messages.size());
  size_t total = 0;
  for (const auto& m : messages) {
    contents.push_back(Defang(m.content));
    msgs.push_back({m.role.c_str(), contents.back().c_str()});
    total += m.role.size() + contents.back().size();
  }
  std::string buf(2 * total + 256, '\0');
  int32_t n = llama_chat_apply_template(template_.c_str(), msgs.data(), msgs.size(), true, buf.data(),
                                        static_cast<int32_t>(buf.size()));
  if (n < 0) return Status(ErrorKind::kInvalidArgument, "the chat template of " + model_->file_name() + " failed");
  if (static_cast<size_t>(n) > buf.size()) {
    buf.resize(n);
    n = llama_chat_apply_template(template_.c_str(), msgs.data(), msgs.size(), true, buf.data(),
                                  static_cast<int32_t>(buf.size()));
  }
  buf.resize(n);
  return buf;
}

Result<ChatUsage> LlamaChat::Chat(const std::vector<ChatMessage>& messages, const ChatOptions& options,
                                  const TokenSink& sink) {
  auto prompt = FormatPrompt(messages);
  if (!prompt.ok()) return prompt.status();
  return Complete(*prompt, options, sink);
}

Result<ChatUsage> LlamaChat::Complete(const std::string& prompt, const ChatOptions& options, const TokenSink& sink,
                                      std::vector<int32_t>* tokens_out) {
  const auto t0 = Clock::now();
  const llama_vocab* vocab = model_->vocab();
  // Templates that write the BOS text themselves ("<s>[INST]...") must not get
  // a second one from the tokenizer.
  bool add_special = true;
  if (llama_vocab_get_add_bos(vocab) && llama_vocab_bos(vocab) != LLAMA_TOKEN_NULL) {
    std::string bos = model_->Piece(llama_vocab_bos(vocab), true);
    if (!bos.empty() && prompt.compare(0, bos.size(), bos) == 0) add_special = false;
  }
  std::vector<llama_token> toks = model_->Tokenize(prompt, add_special, /*parse_special=*/true);
  if (toks.empty()) return Status(ErrorKind::kInvalidArgument, "empty prompt");
  const int n_prompt = static_cast<int>(toks.size());
  if (n_prompt >= n_ctx_) {
    return Status(ErrorKind::kInvalidArgument, "the prompt has " + std::to_string(n_prompt) +
                                                   " tokens, more than the model's context of " + std::to_string(n_ctx_));
  }
  const int max_new = std::min(options.max_tokens > 0 ? options.max_tokens : n_ctx_, n_ctx_ - n_prompt);

  std::unique_ptr<llama_sampler, SamplerDeleter> smpl(llama_sampler_chain_init(llama_sampler_chain_default_params()));
  if (options.temperature <= 0) {
    llama_sampler_chain_add(smpl.get(), llama_sampler_init_greedy());
  } else {
    uint32_t seed = options_.seed ? options_.seed : std::random_device{}();
    llama_sampler_chain_add(smpl.get(), llama_sampler_init_top_k(40));
    llama_sampler_chain_add(smpl.get(), llama_sampler_init_top_p(0.95f, 1));
    llama_sampler_chain_add(smpl.get(), llama_sampler_init_min_p(0.05f, 1));
    llama_sampler_chain_add(smpl.get(), llama_sampler_init_temp(static_cast<float>(options.temperature)));
    llama_sampler_chain_add(smpl.get(), llama_sampler_init_dist(seed));
  }

  ChatUsage usage;
  usage.model = name();
  usage.prompt_tokens = n_prompt;

  std::lock_guard lock(mu_);
  llama_context* ctx = impl_->ctx;
  llama_memory_clear(llama_get_memory(ctx), true);
  TakeLlamaLog();
  const int n_batch = static_cast<int>(llama_n_batch(ctx));
  for (int i = 0; i < n_prompt; i += n_batch) {
    int n = std::min(n_batch, n_prompt - i);
    if (llama_decode(ctx, llama_batch_get_one(toks.data() + i, n)) != 0) {
      std::string why = TakeLlamaLog();
      return Status(ErrorKind::kUnavailable, "llama.cpp failed on the prompt" + (why.empty() ? "" : " (" + why + ")"));
    }
  }

  size_t max_stop = 0;
  for (const auto& s : options.stop) max_stop = std::max(max_stop, s.size());
  std::string text;     // everything generated
  size_t emitted = 0;   // bytes of `text` already given to the sink
  bool first = true;
  usage.finish_reason = "length";
  auto emit = [&](size_t upto) -> bool {
    if (upto <= emitted) return true;
    if (first) {
      usage.first_token_ms = MsSince(t0);
      first = false;
    }
    bool go = sink(std::string_view(text).substr(emitted, upto - emitted));
    emitted = upto;
    return go;
  };
  for (int produced = 0; produced < max_new; ++produced) {
    llama_token tok = llama_sampler_sample(smpl.get(), ctx, -1);
    if (llama_vocab_is_eog(vocab, tok)) {
      usage.finish_reason = "stop";
      break;
    }
    ++usage.completion_tokens;
    if (tokens_out) tokens_out->push_back(tok);
    text += model_->Piece(tok, /*special=*/false);
    // A stop string ends the reply before it.
    size_t stop_at = std::string::npos;
    for (const auto& s : options.stop) {
      if (s.empty()) continue;
      size_t from = emitted > s.size() ? emitted - s.size() : 0;
      size_t p = text.find(s, from);
      if (p != std::string::npos) stop_at = std::min(stop_at, p);
    }
    if (stop_at != std::string::npos) {
      text.resize(stop_at);
      usage.finish_reason = "stop";
      break;
    }
    size_t safe = text.size() - std::min(text.size(), max_stop ? max_stop - 1 : 0);
    safe = CompleteUtf8Prefix(std::string_view(text).substr(0, safe));
    if (!emit(safe)) {
      usage.finish_reason = "cancelled";
      usage.latency_ms = MsSince(t0);
      return usage;
    }
    if (produced + 1 == max_new) break;
    if (llama_decode(ctx, llama_batch_get_one(&tok, 1)) != 0) {
      std::string why = TakeLlamaLog();
      return Status(ErrorKind::kUnavailable, "llama.cpp failed while generating" + (why.empty() ? "" : " (" + why + ")"));
    }
  }
  // What was held back (a possible stop prefix, or an incomplete character
  // at the very end) goes out now.
  if (!emit(text.size()) && usage.finish_reason != "stop") usage.finish_reason = "cancelled";
  usage.latency_ms = MsSince(t0);
  if (first) usage.first_token_ms = usage.latency_ms;
  return usage;
}

}  // namespace savoir
