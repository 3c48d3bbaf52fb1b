#include "common/config.h"

#include <cstdlib>
#include <thread>

namespace savoir {
namespace {

Status ParseInt(const std::string& flag, const std::string& v, int64_t lo, int64_t hi, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || x < lo || x > hi)
    return Status(ErrorKind::kInvalidArgument, flag + " expects an integer in [" + std::to_string(lo) +
                                                   ", " + std::to_string(hi) + "], got '" + v + "'");
  *out = x;
  return Status::Ok();
}

Status ParseFloat(const std::string& flag, const std::string& v, double lo, double hi, float* out) {
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(x >= lo && x <= hi))
    return Status(ErrorKind::kInvalidArgument, flag + " expects a number in [" + std::to_string(lo) +
                                                   ", " + std::to_string(hi) + "], got '" + v + "'");
  *out = static_cast<float>(x);
  return Status::Ok();
}

template <typename T>
std::function<Status(Config&, const std::string&)> IntField(const char* flag, T Config::*field,
                                                             int64_t lo, int64_t hi) {
  return [=](Config& c, const std::string& v) {
    int64_t x = 0;
    SAVOIR_RETURN_IF_ERROR(ParseInt(flag, v, lo, hi, &x));
    c.*field = static_cast<T>(x);
    return Status::Ok();
  };
}

std::function<Status(Config&, const std::string&)> TextField(std::string Config::*field) {
  return [=](Config& c, const std::string& v) {
    c.*field = v;
    return Status::Ok();
  };
}

std::function<Status(Config&, const std::string&)> OneOf(const char* flag, std::string Config::*field,
                                                         std::vector<std::string> allowed) {
  return [=](Config& c, const std::string& v) {
    for (const auto& a : allowed)
      if (v == a) {
        c.*field = v;
        return Status::Ok();
      }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + (a.empty() ? std::string("''") : a);
    return Status(ErrorKind::kInvalidArgument, std::string(flag) + " expects one of " + list + ", got '" + v + "'");
  };
}

}  // namespace

const std::vector<OptionSpec>& OptionTable() {
  static const std::vector<OptionSpec> table = {
      {"--data", "SAVOIR_DATA", "./savoir-data", "Folder holding the store (savoir.db) and the index",
       "all", [](Config& c, const std::string& v) {
         if (v.empty()) return Status(ErrorKind::kInvalidArgument, "--data must not be empty");
         c.data_dir = v;
         return Status::Ok();
       }},
      {"--bm25-k1", "SAVOIR_BM25_K1", "0.9", "BM25 term-frequency saturation k1", "search",
       [](Config& c, const std::string& v) { return ParseFloat("--bm25-k1", v, 0, 10, &c.bm25_k1); }},
      {"--bm25-b", "SAVOIR_BM25_B", "0.7", "BM25 length normalization b", "search",
       [](Config& c, const std::string& v) { return ParseFloat("--bm25-b", v, 0, 1, &c.bm25_b); }},
      {"--bigram-weight", "SAVOIR_BIGRAM_WEIGHT", "0.4",
       "Weight of adjacent word pairs in ranking (0 turns them off)", "search",
       [](Config& c, const std::string& v) { return ParseFloat("--bigram-weight", v, 0, 10, &c.bigram_weight); }},
      {"--language", "SAVOIR_LANGUAGE", "en",
       "Language assumed when detection is unsure (ISO 639-1: en, fr, de ...)", "all",
       [](Config& c, const std::string& v) {
         if (v.size() != 2) return Status(ErrorKind::kInvalidArgument, "--language expects a 2-letter code, got '" + v + "'");
         c.default_language = v;
         return Status::Ok();
       }},
      {"--languages", "SAVOIR_LANGUAGES", "en,fr",
       "Languages documents and queries are detected among (comma-separated ISO 639-1)", "all",
       [](Config& c, const std::string& v) {
         c.languages.clear();
         size_t pos = 0;
         while (pos <= v.size()) {
           size_t comma = v.find(',', pos);
           if (comma == std::string::npos) comma = v.size();
           std::string code = v.substr(pos, comma - pos);
           if (code.size() != 2)
             return Status(ErrorKind::kInvalidArgument, "--languages expects 2-letter codes separated by commas, got '" + v + "'");
           c.languages.push_back(code);
           pos = comma + 1;
         }
         return Status::Ok();
       }},
      {"--chunk-tokens", "SAVOIR_CHUNK_TOKENS", "512", "Target chunk size in words", "index",
       IntField("--chunk-tokens", &Config::chunk_tokens, 32, 8192)},
      {"--parse-timeout-ms", "SAVOIR_PARSE_TIMEOUT_MS", "20000",
       "Time limit to parse one file; the parser process is killed past it", "index",
       IntField("--parse-timeout-ms", &Config::parse_timeout_ms, 100, 3600000)},
      {"--parse-memory-mb", "SAVOIR_PARSE_MEMORY_MB", "2048", "Memory limit of the parser process",
       "index", IntField("--parse-memory-mb", &Config::parse_memory_mb, 64, 1 << 20)},
      {"--max-file-mb", "SAVOIR_MAX_FILE_MB", "64", "Files larger than this are reported, not parsed",
       "index", IntField("--max-file-mb", &Config::max_file_mb, 1, 1 << 20)},
      {"--parse-workers", "SAVOIR_PARSE_WORKERS", "0", "Parser processes (0: one per core)", "index",
       IntField("--parse-workers", &Config::parse_workers, 0, 64)},
      {"--host", "SAVOIR_HOST", "127.0.0.1", "Address the server listens on", "serve",
       [](Config& c, const std::string& v) { c.host = v; return Status::Ok(); }},
      {"--port", "SAVOIR_PORT", "8080", "Port the server listens on", "serve",
       IntField("--port", &Config::port, 0, 65535)},
      {"--threads", "SAVOIR_THREADS", "0",
       "Server worker threads; each open connection holds one (0: 32 per core, at least 128)", "serve",
       IntField("--threads", &Config::threads, 0, 1024)},
      {"--compute-slots", "SAVOIR_COMPUTE_SLOTS", "0",
       "Searches computing at once; the others wait in arrival order, which keeps tail latency "
       "close to the mean (0: one per core)", "serve",
       IntField("--compute-slots", &Config::compute_slots, 0, 1024)},
      {"--web-dir", "SAVOIR_WEB_DIR", "",
       "Folder of the browser UI served at / (empty: the web/ folder of the source tree, fixed at build time)",
       "serve", [](Config& c, const std::string& v) { c.web_dir = v; return Status::Ok(); }},
      {"--max-request-kb", "SAVOIR_MAX_REQUEST_KB", "1024", "Largest request body accepted (larger: 413)",
       "serve", IntField("--max-request-kb", &Config::max_request_kb, 1, 1 << 20)},
      {"--read-timeout-s", "SAVOIR_READ_TIMEOUT_S", "10",
       "Time limit to receive a request once a connection is served", "serve",
       IntField("--read-timeout-s", &Config::read_timeout_s, 1, 3600)},
      {"--write-timeout-s", "SAVOIR_WRITE_TIMEOUT_S", "10",
       "Time limit for a client to accept each piece of a response", "serve",
       IntField("--write-timeout-s", &Config::write_timeout_s, 1, 3600)},
      {"--keep-alive-s", "SAVOIR_KEEP_ALIVE_S", "2",
       "How long an idle connection is kept open (it holds a worker thread meanwhile)", "serve",
       IntField("--keep-alive-s", &Config::keep_alive_s, 0, 300)},
      {"--answer-pace-ms", "SAVOIR_ANSWER_PACE_MS", "0",
       "Pause between streamed answer pieces, so that they appear one by one (0: none)", "serve",
       IntField("--answer-pace-ms", &Config::answer_pace_ms, 0, 10000)},
      {"--refresh-s", "SAVOIR_REFRESH_S", "2",
       "How often the server picks up documents indexed by other processes (0: never)", "serve",
       IntField("--refresh-s", &Config::refresh_s, 0, 86400)},
      {"--secret-key-file", "SAVOIR_SECRET_KEY_FILE", "",
       "File holding the key (base64 of 32 bytes) that encrypts source credentials", "all",
       [](Config& c, const std::string& v) { c.secret_key_file = v; return Status::Ok(); }},
      // Validated where it is used (common/secret.h), so no message here can
      // ever echo the key.
      {"--secret-key", "SAVOIR_SECRET_KEY", "",
       "The credentials key itself (base64 of 32 bytes); prefer the environment variable or the file", "all",
       [](Config& c, const std::string& v) { c.secret_key_base64 = v; return Status::Ok(); }},
      {"--sync-interval-min", "SAVOIR_SYNC_INTERVAL_MIN", "60",
       "Minutes between two syncs of a connector source (its next run is shown by `source list`)", "sync",
       IntField("--sync-interval-min", &Config::sync_interval_min, 1, 10080)},
      {"--sync-interval-s", "SAVOIR_SYNC_INTERVAL_S", "0",
       "Seconds between two syncs; overrides --sync-interval-min when above 0 (for tests and demos)", "sync",
       IntField("--sync-interval-s", &Config::sync_interval_s, 0, 604800)},
      {"--embedder", "SAVOIR_EMBEDDER", "",
       "Embedding model kind for hybrid search: empty (none, BM25 only), llama, openai or bedrock", "all",
       OneOf("--embedder", &Config::embedder, {"", "llama", "openai", "bedrock"})},
      {"--embed-model", "SAVOIR_EMBED_MODEL", "",
       "Embedding model: a GGUF file path (llama) or the endpoint's model name (openai, bedrock)", "all",
       TextField(&Config::embed_model)},
      {"--embed-url", "SAVOIR_EMBED_URL", "",
       "Base URL of an OpenAI-compatible embeddings endpoint, e.g. http://127.0.0.1:11434/v1", "all",
       TextField(&Config::embed_url)},
      {"--embed-api-key-file", "SAVOIR_EMBED_API_KEY_FILE", "",
       "File holding the API key of the embeddings endpoint (never logged)", "all",
       TextField(&Config::embed_api_key_file)},
      {"--chat", "SAVOIR_CHAT", "",
       "Language model kind for answers: empty (extractive answers), llama, openai or bedrock", "serve",
       OneOf("--chat", &Config::chat, {"", "llama", "openai", "bedrock"})},
      {"--chat-model", "SAVOIR_CHAT_MODEL", "",
       "Language model: a GGUF file path (llama) or the endpoint's model name / Bedrock model id", "serve",
       TextField(&Config::chat_model)},
      {"--chat-url", "SAVOIR_CHAT_URL", "",
       "Base URL of an OpenAI-compatible chat endpoint, e.g. http://127.0.0.1:8081/v1", "serve",
       TextField(&Config::chat_url)},
      {"--chat-api-key-file", "SAVOIR_CHAT_API_KEY_FILE", "",
       "File holding the API key of the chat endpoint (never logged)", "serve",
       TextField(&Config::chat_api_key_file)},
      {"--chat-context-tokens", "SAVOIR_CHAT_CONTEXT_TOKENS", "0",
       "Context window of the language model in tokens (0: asked from the endpoint, else 4096)", "serve",
       IntField("--chat-context-tokens", &Config::chat_context_tokens, 0, 10000000)},
      {"--answer-max-tokens", "SAVOIR_ANSWER_MAX_TOKENS", "512",
       "Longest answer the language model may write, in tokens (reserved in the context budget)", "serve",
       IntField("--answer-max-tokens", &Config::answer_max_tokens, 16, 1000000)},
      {"--aws-region", "SAVOIR_AWS_REGION", "",
       "AWS region for Bedrock; empty: AWS_REGION, AWS_DEFAULT_REGION or the profile's region", "all",
       TextField(&Config::aws_region)},
      {"--bedrock-endpoint", "SAVOIR_BEDROCK_ENDPOINT", "",
       "Bedrock runtime endpoint (a VPC endpoint URL); empty: https://bedrock-runtime.REGION.amazonaws.com", "all",
       TextField(&Config::bedrock_endpoint)},
      {"--aws-sts-endpoint", "SAVOIR_AWS_STS_ENDPOINT", "",
       "AWS STS endpoint for assumed roles (a VPC endpoint URL); empty: AWS_ENDPOINT_URL_STS, else "
       "https://sts.REGION.amazonaws.com", "all",
       TextField(&Config::aws_sts_endpoint)},
      {"--model-idle-timeout-s", "SAVOIR_MODEL_IDLE_TIMEOUT_S", "120",
       "Seconds a model endpoint (chat, embeddings, Bedrock) may stay silent in a request or a stream before it "
       "is cut as stalled (0: only the whole-request timeout)", "all",
       IntField("--model-idle-timeout-s", &Config::model_idle_timeout_s, 0, 86400)},
      {"--llama-threads", "SAVOIR_LLAMA_THREADS", "0",
       "CPU threads for local GGUF models (0: every core)", "all",
       IntField("--llama-threads", &Config::llama_threads, 0, 1024)},
      {"--vector-storage", "SAVOIR_VECTOR_STORAGE", "f16",
       "How the vector index stores embeddings: f16 (default), f32 (2x memory; exact order of near-ties) or i8 "
       "(half of f16; only for models whose vectors are not all alike). A change rebuilds the vector index",
       "all", OneOf("--vector-storage", &Config::vector_storage, {"f16", "f32", "i8"})},
      {"--fusion", "SAVOIR_FUSION", "rrf",
       "How hybrid search fuses the BM25 and vector lists: rrf (reciprocal rank) or weighted (normalized scores)",
       "search", OneOf("--fusion", &Config::fusion, {"rrf", "weighted"})},
      {"--rrf-k", "SAVOIR_RRF_K", "60", "Reciprocal rank fusion constant k: 1 / (k + rank)", "search",
       [](Config& c, const std::string& v) { return ParseFloat("--rrf-k", v, 0, 100000, &c.rrf_k); }},
      {"--fusion-weight", "SAVOIR_FUSION_WEIGHT", "0.5",
       "Weighted fusion: share of the vector score (0: BM25 only, 1: vectors only)", "search",
       [](Config& c, const std::string& v) { return ParseFloat("--fusion-weight", v, 0, 1, &c.fusion_weight); }},
      {"--vector-candidates", "SAVOIR_VECTOR_CANDIDATES", "100",
       "Documents taken from each of the BM25 and vector lists before fusing", "search",
       IntField("--vector-candidates", &Config::vector_candidates, 1, 10000)},
      {"--reranker", "SAVOIR_RERANKER", "",
       "Reranker of the top results: empty (remote when --reranker-url is set, else none), remote (a /rerank "
       "endpoint) or llama (a local GGUF cross-encoder, --reranker-model)",
       "search", OneOf("--reranker", &Config::reranker, {"", "remote", "llama"})},
      {"--reranker-url", "SAVOIR_RERANKER_URL", "",
       "Full URL of a /rerank endpoint (llama-server --reranking, TEI, Jina); empty: no reranking", "search",
       TextField(&Config::reranker_url)},
      {"--reranker-model", "SAVOIR_RERANKER_MODEL", "",
       "Reranker model: a GGUF cross-encoder file (llama), or the model name sent to the endpoint (remote)",
       "search", TextField(&Config::reranker_model)},
      {"--reranker-api-key-file", "SAVOIR_RERANKER_API_KEY_FILE", "",
       "File holding the API key of the reranker endpoint (never logged)", "search",
       TextField(&Config::reranker_api_key_file)},
      {"--rerank-top", "SAVOIR_RERANK_TOP", "20", "Fused documents the reranker reorders", "search",
       IntField("--rerank-top", &Config::rerank_top, 1, 1000)},
  };
  return table;
}

Status ApplyDefaultsAndEnvironment(Config& config) {
  for (const auto& o : OptionTable()) {
    SAVOIR_RETURN_IF_ERROR(o.set(config, o.default_value));
    if (const char* env = std::getenv(o.env); env && *env) {
      Status st = o.set(config, env);
      if (!st.ok()) return Status(st.kind(), std::string(o.env) + ": " + st.message());
    }
  }
  return Status::Ok();
}

std::string OptionTableMarkdown() {
  std::string out = "| flag | environment | default | applies to | meaning |\n|---|---|---|---|---|\n";
  for (const auto& o : OptionTable()) {
    out += std::string("| `") + o.flag + "` | `" + o.env + "` | `" + o.default_value + "` | " + o.scope +
           " | " + o.help + " |\n";
  }
  return out;
}

}  // namespace savoir
