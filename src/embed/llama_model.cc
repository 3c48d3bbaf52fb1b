#include "embed/llama_model.h"

#include <llama.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace savoir {
namespace {

// llama.cpp logs to stderr by default: keep warnings and errors of the
// current thread for our messages; SAVOIR_LLAMA_LOG=1 passes everything on.
thread_local std::deque<std::string> t_log;
thread_local std::string t_partial;
bool g_log_passthrough = false;

void LogCallback(ggml_log_level level, const char* text, void*) {
  if (g_log_passthrough) std::fputs(text, stderr);
  if (level == GGML_LOG_LEVEL_CONT) {
    if (!t_log.empty()) t_log.back() += text;
    return;
  }
  if (level != GGML_LOG_LEVEL_ERROR && level != GGML_LOG_LEVEL_WARN) return;
  t_log.emplace_back(text);
  while (t_log.size() > 6) t_log.pop_front();
}

void InitBackendOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("SAVOIR_LLAMA_LOG");
    g_log_passthrough = env && *env && std::strcmp(env, "0") != 0;
    llama_log_set(LogCallback, nullptr);
    llama_backend_init();
  });
}

Result<std::string> Sha256Prefix(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status(ErrorKind::kIo, "cannot read " + path + ": " + std::strerror(errno));
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<unsigned char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) crypto_hash_sha256_update(&st, buf.data(), n);
  bool err = std::ferror(f);
  std::fclose(f);
  if (err) return Status(ErrorKind::kIo, "error reading " + path);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, digest);
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, 16);
}

}  // namespace

std::string TakeLlamaLog() {
  std::string out;
  for (auto& line : t_log) {
    std::string l = line;
    while (!l.empty() && (l.back() == '\n' || l.back() == ' ')) l.pop_back();
    if (l.empty()) continue;
    if (!out.empty()) out += "; ";
    out += l;
  }
  t_log.clear();
  return out;
}

Result<std::shared_ptr<LlamaModel>> LlamaModel::Load(const std::string& path, const std::string& what) {
  if (path.empty()) return Status(ErrorKind::kInvalidArgument, what + " is empty: give the path of a GGUF file");
  struct stat sb;
  if (::stat(path.c_str(), &sb) != 0) {
    return Status(ErrorKind::kNotFound, what + " " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(sb.st_mode)) return Status(ErrorKind::kInvalidArgument, what + " " + path + " is not a regular file");
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return Status(ErrorKind::kIo, what + " " + path + ": " + std::strerror(errno));
    char magic[4] = {};
    size_t n = std::fread(magic, 1, 4, f);
    std::fclose(f);
    if (n != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
      return Status(ErrorKind::kInvalidArgument, what + " " + path + " is not a GGUF file (no GGUF magic)");
    }
  }
  auto sha = Sha256Prefix(path);
  if (!sha.ok()) return sha.status();

  InitBackendOnce();
  TakeLlamaLog();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* m = llama_model_load_from_file(path.c_str(), mp);
  if (!m) {
    std::string why = TakeLlamaLog();
    return Status(ErrorKind::kInvalidArgument,
                  what + " " + path + ": llama.cpp cannot load this GGUF file" + (why.empty() ? "" : " (" + why + ")"));
  }
  std::shared_ptr<LlamaModel> out(new LlamaModel());
  out->model_ = m;
  out->path_ = path;
  out->file_name_ = path.substr(path.find_last_of('/') + 1);
  out->sha256_prefix_ = *sha;
  return out;
}

LlamaModel::~LlamaModel() {
  if (model_) llama_model_free(model_);
}

const llama_vocab* LlamaModel::vocab() const { return llama_model_get_vocab(model_); }

std::string LlamaModel::Meta(const char* key) const {
  char buf[512];
  int32_t n = llama_model_meta_val_str(model_, key, buf, sizeof buf);
  if (n < 0) return "";
  if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, n);
  std::string big(n + 1, '\0');
  llama_model_meta_val_str(model_, key, big.data(), big.size());
  big.resize(n);
  return big;
}

std::vector<int32_t> LlamaModel::Tokenize(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<llama_token> out(text.size() + 8);
  int32_t n = llama_tokenize(vocab(), text.data(), static_cast<int32_t>(text.size()), out.data(),
                             static_cast<int32_t>(out.size()), add_special, parse_special);
  if (n < 0 && n != INT32_MIN) {
    out.resize(-n);
    n = llama_tokenize(vocab(), text.data(), static_cast<int32_t>(text.size()), out.data(),
                       static_cast<int32_t>(out.size()), add_special, parse_special);
  }
  out.resize(std::max<int32_t>(n, 0));
  return out;
}

std::string LlamaModel::Piece(int32_t token, bool special) const {
  char buf[128];
  int32_t n = llama_token_to_piece(vocab(), token, buf, sizeof buf, 0, special);
  if (n >= 0) return std::string(buf, n);
  std::string big(-n, '\0');
  n = llama_token_to_piece(vocab(), token, big.data(), static_cast<int32_t>(big.size()), 0, special);
  big.resize(std::max<int32_t>(n, 0));
  return big;
}

Result<llama_context*> LlamaModel::NewContext(const void* params) const {
  TakeLlamaLog();
  llama_context* ctx = llama_init_from_model(model_, *static_cast<const llama_context_params*>(params));
  if (!ctx) {
    std::string why = TakeLlamaLog();
    return Status(ErrorKind::kUnavailable,
                  "llama.cpp cannot create a context for " + file_name_ + (why.empty() ? "" : " (" + why + ")"));
  }
  return ctx;
}

int LlamaModel::Threads(int configured) {
  if (configured > 0) return configured;
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

}  // namespace savoir
