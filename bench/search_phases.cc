// search_phases: where one /api/search request's server-side time goes, on
// an indexed data folder, without HTTP: query analysis, BM25 (with the
// chunk-to-document collapse), store reads + snippets, and the JSON body.
// Each phase's CPU time is summed over every query (single thread), so the split is
// comparable between builds on the same data folder.
//
//   build/search_phases DATA_DIR QUERIES.jsonl [--repeat N] [--k 10] [--hits FILE] [--explain N]
//
// QUERIES.jsonl is a BEIR queries file ({"_id", "text"} per line). --hits
// writes each query's documents and scores, one line per query, then its
// response body (took_ms set to 0), so two builds can be checked for
// identical rankings and bodies, snippets included (diff the files).
#include <nlohmann/json.hpp>

#include <time.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/allocator.h"
#include "common/config.h"
#include "retrieve/engine.h"
#include "server/retrieval.h"

namespace {
// CPU time of this thread: on a shared machine it moves much less than
// wall-clock time.
struct Clock {
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
  }
};
double Us(double a, double b) { return b - a; }
}  // namespace

int main(int argc, char** argv) {
  using namespace savoir;
  ConfigureAllocator();  // as the savoir binary runs
  if (argc < 3) {
    std::fprintf(stderr, "usage: search_phases DATA_DIR QUERIES.jsonl [--repeat N] [--k 10] [--hits FILE]\n");
    return 2;
  }
  int repeat = 3;
  size_t k = 10;
  std::string hits_path;
  int explain = 0;  // print the analyzed terms (weight, document frequency) of the first N queries
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--repeat") repeat = std::stoi(argv[i + 1]);
    else if (a == "--k") k = std::stoul(argv[i + 1]);
    else if (a == "--hits") hits_path = argv[i + 1];
    else if (a == "--explain") explain = std::stoi(argv[i + 1]);
  }
  Config config;
  if (Status st = ApplyDefaultsAndEnvironment(config); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  config.data_dir = argv[1];
  auto engine = Engine::Open(config);
  if (!engine.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", argv[1], engine.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> queries;
  std::ifstream in(argv[2]);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("text")) queries.push_back(j["text"].get<std::string>());
  }
  if (queries.empty()) {
    std::fprintf(stderr, "no queries in %s\n", argv[2]);
    return 1;
  }
  Engine& e = **engine;
  for (int i = 0; i < explain && i < static_cast<int>(queries.size()); ++i) {
    auto snap = e.index().snapshot();
    AnalyzedQuery aq = e.searcher().Analyze(queries[i], *snap);
    std::printf("%s [%s]\n ", queries[i].c_str(), aq.language.c_str());
    for (const auto& t : aq.terms) std::printf(" %s/%.2f/%llu", t.term.c_str(), t.weight,
                                               static_cast<unsigned long long>(snap->DocFreq(t.term)));
    std::printf("\n");
  }
  Principal everyone;
  everyone.all_access = true;
  double analyze_us = 0, search_us = 0, retrieve_us = 0, json_us = 0, store_us = 0;
  std::ofstream hits_out;
  if (!hits_path.empty()) hits_out.open(hits_path);
  for (int r = 0; r < repeat; ++r) {
    for (const auto& q : queries) {
      auto t0 = Clock::now();
      auto snap = e.index().snapshot();
      AnalyzedQuery aq = e.searcher().Analyze(q, *snap);
      auto t1 = Clock::now();
      SearchRequest req;
      req.query = q;
      req.principal = everyone;
      req.k = k;
      auto hits = e.Search(req);
      auto t2 = Clock::now();
      auto t2s = Clock::now();
      if (hits.ok()) {
        // As Retrieve reads them: the page's passages in one read, then
        // each source once.
        std::vector<int64_t> ids;
        for (const auto& h : *hits) ids.push_back(h.chunk_id);
        std::map<int64_t, bool> sources;
        for (auto& p : e.store().GetPassages(ids))
          if (p.ok() && sources.emplace(p->doc.source_id, true).second) (void)e.store().GetSource(p->doc.source_id);
      }
      auto t2r = Clock::now();
      store_us += Us(t2s, t2r);
      auto ret = Retrieve(e, q, everyone, SearchFilters{}, k);
      auto t3 = Clock::now();
      std::string body;
      if (ret.ok()) body = SearchResponseJson(*ret, ret->took_ms);  // as /api/search writes it
      auto t4 = Clock::now();
      analyze_us += Us(t0, t1);
      search_us += Us(t1, t2);
      retrieve_us += Us(t2r, t3);
      json_us += Us(t3, t4);
      if (r == 0 && hits_out && hits.ok()) {
        for (const auto& h : *hits) hits_out << h.doc_id << ':' << h.chunk_id << ':' << h.score << ' ';
        hits_out << '\n';
        if (ret.ok()) hits_out << SearchResponseJson(*ret, 0) << '\n';
      }
    }
  }
  const double n = static_cast<double>(queries.size()) * repeat;
  // Retrieve repeats the search (analysis included): its own part is the rest.
  // Retrieve = search + store reads + snippets (the store reads are timed
  // apart, on the same passages).
  std::printf("queries %zu x %d, CPU per query (us): analyze %.1f | search (analyze + BM25 + collapse) %.1f | "
              "store reads %.1f | snippets %.1f | JSON %.1f | total request %.1f\n",
              queries.size(), repeat, analyze_us / n, search_us / n, store_us / n,
              (retrieve_us - search_us - store_us) / n, json_us / n, (retrieve_us + json_us) / n);
  return 0;
}
