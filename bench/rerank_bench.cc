// rerank_bench: (query, document) pairs per second of Savoir's local reranker
// (retrieve/llama_reranker) on a GGUF cross-encoder. bench/rerank_bench.sh
// runs it next to llama-server --reranking on the same file and pairs.
//
//   rerank_bench MODEL REQUESTS.jsonl [--threads N] [--max-seqs N] [--out SCORES.json]
//
// REQUESTS.jsonl: one {"query": ..., "documents": [...]} per line, each one
// Score call (as one search reranks its top candidates). Prints one JSON
// object: pairs, tokens, load_s, score_s (wall), cpu_s (this process's user +
// system time while scoring), pairs_per_s, pairs_per_cpu_s.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "retrieve/llama_reranker.h"

namespace {
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: rerank_bench MODEL REQUESTS.jsonl [--threads N] [--max-seqs N] [--out F]\n");
    return 2;
  }
  savoir::LlamaRerankerOptions opt;
  std::string out_path;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--threads") opt.threads = std::atoi(argv[i + 1]);
    else if (a == "--max-seqs") opt.max_seqs = std::atoi(argv[i + 1]);
    else if (a == "--out") out_path = argv[i + 1];
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  struct Request {
    std::string query;
    std::vector<std::string> documents;
  };
  std::vector<Request> requests;
  {
    std::ifstream in(argv[2]);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line);
      requests.push_back({j["query"].get<std::string>(), j["documents"].get<std::vector<std::string>>()});
    }
  }
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto r = savoir::LlamaReranker::Open(argv[1], opt);
  if (!r.ok()) {
    std::fprintf(stderr, "rerank_bench: %s\n", r.status().ToString().c_str());
    return 1;
  }
  auto t1 = Clock::now();
  size_t pairs = 0, tokens = 0;
  for (const auto& q : requests)
    for (const auto& d : q.documents) tokens += (*r)->PairTokens(q.query, d).size();
  std::vector<std::vector<float>> all;
  const double cpu0 = CpuSeconds();
  auto t2 = Clock::now();
  for (const auto& q : requests) {
    auto s = (*r)->Score(q.query, q.documents);
    if (!s.ok()) {
      std::fprintf(stderr, "rerank_bench: %s\n", s.status().ToString().c_str());
      return 1;
    }
    pairs += s->size();
    all.push_back(std::move(*s));
  }
  auto t3 = Clock::now();
  const double cpu = CpuSeconds() - cpu0;
  auto sec = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  const double score_s = sec(t2, t3);
  if (!out_path.empty()) std::ofstream(out_path) << nlohmann::json(all).dump() << "\n";
  std::printf("{\"reranker\": \"%s\", \"requests\": %zu, \"pairs\": %zu, \"tokens\": %zu, \"load_s\": %.3f, "
              "\"score_s\": %.3f, \"cpu_s\": %.3f, \"pairs_per_s\": %.1f, \"pairs_per_cpu_s\": %.1f}\n",
              (*r)->name().c_str(), requests.size(), pairs, tokens, sec(t0, t1), score_s, cpu,
              score_s > 0 ? pairs / score_s : 0.0, cpu > 0 ? pairs / cpu : 0.0);
  return 0;
}
