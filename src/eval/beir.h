// `savoir eval --beir DIR`: index a BEIR folder (corpus.jsonl, queries.jsonl,
// qrels/SPLIT.tsv) into a temporary store through the normal ingest path,
// run every judged query, and report quality and speed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "eval/metrics.h"
#include "ingest/ingestor.h"
#include "retrieve/searcher.h"

namespace savoir {

struct BeirQuery {
  std::string id, text;
  std::vector<std::string> answers;  // PIAF: gold answer strings (metadata.answers)
};

struct BeirDataset {
  std::vector<BeirQuery> queries;             // judged queries only, file order
  std::map<std::string, Qrels> qrels;         // query id -> judgments
};

struct EvalOptions {
  std::string dir;
  std::string split = "test";
  std::string work_dir;  // temporary store and index go here
  SearcherOptions searcher;
  IngestOptions ingest;
};

struct EvalReport {
  size_t documents = 0, queries = 0;
  double ndcg10 = 0, recall100 = 0, mrr10 = 0;
  double store_seconds = 0;  // parse, chunk, detect language, write the store
  double index_seconds = 0, query_p50_ms = 0, query_p99_ms = 0, query_mean_ms = 0;
};

Result<BeirDataset> LoadBeirQueries(const std::string& dir, const std::string& split);
Result<EvalReport> RunBeirEval(const EvalOptions& options);

}  // namespace savoir
