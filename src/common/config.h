// One option table for the whole program: each option's flag, environment
// variable, default and help live in one row, so the CLI, the environment
// and docs/options.md never disagree. Precedence: flag, then environment,
// then default.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace savoir {

struct Config {
  std::string data_dir;
  float bm25_k1 = 0;
  float bm25_b = 0;
  float bigram_weight = 0;
  std::string default_language;
  std::vector<std::string> languages;  // the corpus languages detection chooses among
  int chunk_tokens = 0;
  int parse_timeout_ms = 0;
  int64_t parse_memory_mb = 0;
  int64_t max_file_mb = 0;
  int parse_workers = 0;
  std::string host;
  int port = 0;
  int threads = 0;
  int compute_slots = 0;        // server: requests computing at once (0: one per core)
  std::string web_dir;          // empty: the web/ folder baked in at build time
  int64_t max_request_kb = 0;   // request bodies larger than this get 413
  int read_timeout_s = 0;
  int write_timeout_s = 0;
  int keep_alive_s = 0;
  int answer_pace_ms = 0;
  int refresh_s = 0;            // server: catch up with the store this often
  // Credentials at rest: the key (32 bytes, base64) comes from the file or
  // the environment; never from anything that is logged.
  std::string secret_key_file;
  std::string secret_key_base64;
  int sync_interval_min = 0;
  int sync_interval_s = 0;      // > 0: overrides sync_interval_min (tests, demos)

  // Models (docs/models.md). Empty kind: no model (BM25 only, extractive answers).
  std::string embedder;          // "", "llama", "openai", "bedrock"
  std::string embed_model;       // GGUF path (llama) or model name (openai, bedrock)
  std::string embed_url;         // base URL of an OpenAI-compatible endpoint (".../v1")
  std::string embed_api_key_file;
  std::string chat;              // "", "llama", "openai", "bedrock"
  std::string chat_model;
  std::string chat_url;
  std::string chat_api_key_file;
  int chat_context_tokens = 0;   // 0: asked from the endpoint, else 4096
  int answer_max_tokens = 512;   // longest model answer
  std::string aws_region;        // empty: from the AWS environment / profile
  std::string bedrock_endpoint;  // empty: https://bedrock-runtime.<region>.amazonaws.com
  std::string aws_sts_endpoint;  // empty: AWS_ENDPOINT_URL_STS, else https://sts.<region>.amazonaws.com
  int model_idle_timeout_s = 0;  // a model endpoint silent this long is cut (0: off)
  int llama_threads = 0;         // 0: every core
  std::string vector_storage;    // "f16", "f32" or "i8": how the vector index stores vectors
  // Hybrid retrieval (retrieve/hybrid.h).
  std::string fusion;            // "rrf" or "weighted"
  float rrf_k = 0;
  float fusion_weight = 0;       // weighted fusion: the vector list's share
  int vector_candidates = 0;     // documents taken from each list before fusing
  std::string reranker;          // "", "remote" or "llama" ("": remote when reranker_url is set)
  std::string reranker_url;      // full URL of a /rerank endpoint; empty: no reranker
  std::string reranker_model;
  std::string reranker_api_key_file;
  int rerank_top = 0;

  std::string store_path() const { return data_dir + "/savoir.db"; }
  std::string index_dir() const { return data_dir + "/index"; }
  std::string vectors_dir() const { return data_dir + "/vectors"; }
};

struct OptionSpec {
  const char* flag;     // "--data"
  const char* env;      // "SAVOIR_DATA"
  const char* default_value;
  const char* help;
  const char* scope;    // "all", "index", "search", "serve"
  std::function<Status(Config&, const std::string&)> set;
};

const std::vector<OptionSpec>& OptionTable();

// Fills `config` from the defaults, then the environment.
Status ApplyDefaultsAndEnvironment(Config& config);

// The table as Markdown (for `savoir options` and docs/options.md).
std::string OptionTableMarkdown();

}  // namespace savoir
