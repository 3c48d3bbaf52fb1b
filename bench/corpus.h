// Benchmark corpora: BEIR folders as they are, a larger corpus generated from
// their sentences with a fixed seed, and long (ArguAna-like) paragraph queries.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eval/metrics.h"

namespace savoir::bench {

struct BenchDoc {
  std::string id, title, text;
  std::string lang;              // corpus language ("en"/"fr"): Xapian's stemmer
  std::vector<std::string> acl;  // Savoir access list: group:g100 (+ g10, g1, g01)
};

struct BenchQuery {
  std::string id, text, lang;
};

struct QuerySet {
  std::string name;
  std::vector<BenchQuery> queries;
  std::map<std::string, Qrels> qrels;  // empty: latency only
};

struct Corpus {
  std::string name;
  std::vector<BenchDoc> docs;
  std::vector<QuerySet> sets;
  uint64_t raw_bytes = 0;  // sum of title + text bytes
};

// Deterministic generator (splitmix64): the same seed gives the same corpus
// on every platform (std:: distributions are implementation-defined).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
};

// Access lists by a hash of the doc's position: every doc is in group g100,
// 10 % in g10, 1 % in g1, 0.1 % in g01 (nested).
void AssignAcls(Corpus* c);

// corpus.jsonl + queries.jsonl + qrels/test.tsv (judged queries only).
Corpus LoadBeir(const std::string& dir, const std::string& name, const std::string& lang);

// `n_docs` docs of 3-8 sentences sampled from the sources' texts (language
// chosen in proportion to the sources' sizes, one language per doc), titles
// from the sources' titles; `n_queries` queries sampled from their test sets.
Corpus GenerateLarge(const std::vector<const Corpus*>& sources, size_t n_docs, size_t n_queries,
                     uint64_t seed);

// ArguAna-like: for each query of `base`'s first set, a paragraph of 100-200
// words from a corpus doc that is not judged relevant to it.
QuerySet LongQueries(const Corpus& base, uint64_t seed);

void Finish(Corpus* c);  // raw_bytes + ACLs

}  // namespace savoir::bench
