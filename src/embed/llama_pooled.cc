#include "embed/llama_pooled.h"

namespace savoir {

Result<std::unique_ptr<LlamaPooledContext>> LlamaPooledContext::Open(const LlamaModel& model, int pass_tokens,
                                                                      int max_seqs, enum llama_pooling_type pooling,
                                                                      int threads) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(pass_tokens);
  cp.n_seq_max = static_cast<uint32_t>(max_seqs);
  cp.kv_unified = true;  // decoders: one cache shared by the batch's sequences
  cp.embeddings = true;
  cp.pooling_type = pooling;
  cp.n_threads = cp.n_threads_batch = threads;
  cp.no_perf = true;
  auto ctx = model.NewContext(&cp);
  if (!ctx.ok()) return ctx.status();
  auto out = std::make_unique<LlamaPooledContext>();
  out->ctx = *ctx;
  out->batch = llama_batch_init(pass_tokens, 0, 1);
  return out;
}

LlamaPooledContext::~LlamaPooledContext() {
  if (batch.token) llama_batch_free(batch);
  if (ctx) llama_free(ctx);
}

Status LlamaPooledContext::Run(const std::string& what) {
  llama_memory_t mem = llama_get_memory(ctx);
  if (mem) llama_memory_clear(mem, true);
  TakeLlamaLog();
  int32_t rc = mem ? llama_decode(ctx, batch) : llama_encode(ctx, batch);
  if (rc != 0) {
    std::string why = TakeLlamaLog();
    return Status(ErrorKind::kUnavailable, "llama.cpp failed to " + what + " (code " + std::to_string(rc) +
                                               (why.empty() ? "" : ", " + why) + ")");
  }
  return Status::Ok();
}

}  // namespace savoir
