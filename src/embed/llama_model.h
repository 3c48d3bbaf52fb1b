// A GGUF model file loaded through llama.cpp (static, built by
// scripts/build-llama), shared by the local embedder (embed/llama_embedder)
// and the local chat model (answer/llama_chat): file checks with clear
// errors, the llama backend initialized once, llama.cpp's log kept off
// stderr (its errors are folded into our Status messages), and helpers
// around the vocabulary.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct llama_model;
struct llama_context;
struct llama_vocab;

namespace savoir {

class LlamaModel {
 public:
  // Loads `path` (weights memory-mapped, CPU only). Errors: kNotFound (no
  // such file), kInvalidArgument (not a GGUF file, or a GGUF llama.cpp
  // cannot load: the message carries llama.cpp's reason). `what` names the
  // option in messages ("--embed-model").
  static Result<std::shared_ptr<LlamaModel>> Load(const std::string& path, const std::string& what);
  ~LlamaModel();
  LlamaModel(const LlamaModel&) = delete;
  LlamaModel& operator=(const LlamaModel&) = delete;

  llama_model* model() const { return model_; }
  const llama_vocab* vocab() const;
  const std::string& path() const { return path_; }
  const std::string& file_name() const { return file_name_; }
  // First 16 hex digits of the file's SHA-256.
  const std::string& sha256_prefix() const { return sha256_prefix_; }
  // A metadata value ("general.architecture"...), empty when absent.
  std::string Meta(const char* key) const;

  // Tokens of `text`; add_special adds what the model's tokenizer adds
  // (BOS, CLS/SEP...), parse_special reads "<|im_start|>"-like markers in
  // the text as special tokens.
  std::vector<int32_t> Tokenize(std::string_view text, bool add_special, bool parse_special) const;
  // The bytes of one token (special tokens rendered when `special`).
  std::string Piece(int32_t token, bool special) const;

  // Creates a context; kUnavailable with llama.cpp's reason when it fails.
  // The caller frees it with llama_free.
  Result<llama_context*> NewContext(const void* params /* llama_context_params* */) const;

  // Threads for --llama-threads (0: every core).
  static int Threads(int configured);

 private:
  LlamaModel() = default;
  llama_model* model_ = nullptr;
  std::string path_, file_name_, sha256_prefix_;
};

// llama.cpp's last error lines logged on this thread since the last call
// (for error messages), then cleared.
std::string TakeLlamaLog();

}  // namespace savoir
