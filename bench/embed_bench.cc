// embed_bench: chunks/s of Savoir's local embedder (embed/llama_embedder) on a
// GGUF file and a file of chunks (one per line). bench/embed_bench.sh runs it
// next to llama.cpp's llama-embedding on the same file and chunks.
//
//   embed_bench MODEL CHUNKS_FILE [--threads N] [--batch-tokens N] [--max-seqs N] [--out VECTORS.json]
//
// Prints one JSON object: load_s, embed_s, chunks, chunks_per_s, tokens.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "embed/llama_embedder.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: embed_bench MODEL CHUNKS_FILE [--threads N] [--batch-tokens N] [--max-seqs N] [--out F]\n");
    return 2;
  }
  savoir::LlamaEmbedderOptions opt;
  std::string out_path;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--threads") opt.threads = std::atoi(argv[i + 1]);
    else if (a == "--batch-tokens") opt.batch_tokens = std::atoi(argv[i + 1]);
    else if (a == "--max-seqs") opt.max_seqs = std::atoi(argv[i + 1]);
    else if (a == "--out") out_path = argv[i + 1];
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  std::vector<std::string> chunks;
  {
    std::ifstream in(argv[2]);
    std::string line;
    while (std::getline(in, line)) chunks.push_back(line);
  }
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto e = savoir::LlamaEmbedder::Open(argv[1], opt);
  if (!e.ok()) {
    std::fprintf(stderr, "embed_bench: %s\n", e.status().ToString().c_str());
    return 1;
  }
  auto t1 = Clock::now();
  size_t tokens = 0;
  for (const auto& c : chunks) tokens += (*e)->Tokens(c).size();
  auto t2 = Clock::now();
  std::vector<std::vector<float>> all;
  const size_t step = (*e)->max_batch();
  for (size_t i = 0; i < chunks.size(); i += step) {
    std::vector<std::string> batch(chunks.begin() + i, chunks.begin() + std::min(chunks.size(), i + step));
    auto v = (*e)->Embed(batch, savoir::EmbedKind::kPassage);
    if (!v.ok()) {
      std::fprintf(stderr, "embed_bench: %s\n", v.status().ToString().c_str());
      return 1;
    }
    if (!out_path.empty()) all.insert(all.end(), v->begin(), v->end());
  }
  auto t3 = Clock::now();
  auto s = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  double embed_s = s(t2, t3);
  if (!out_path.empty()) {
    std::ofstream out(out_path);
    out << "[";
    for (size_t i = 0; i < all.size(); ++i) {
      out << (i ? ",\n[" : "[");
      for (size_t j = 0; j < all[i].size(); ++j) out << (j ? "," : "") << all[i][j];
      out << "]";
    }
    out << "]\n";
  }
  std::printf("{\"model_id\": \"%s\", \"chunks\": %zu, \"tokens\": %zu, \"load_s\": %.3f, \"embed_s\": %.3f, "
              "\"chunks_per_s\": %.1f}\n",
              (*e)->model_id().c_str(), chunks.size(), tokens, s(t0, t1), embed_s,
              embed_s > 0 ? chunks.size() / embed_s : 0.0);
  return 0;
}
