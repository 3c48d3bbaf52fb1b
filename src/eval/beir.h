// `savoir eval --beir DIR`: index a BEIR folder (corpus.jsonl, queries.jsonl,
// qrels/SPLIT.tsv) into a temporary store through the normal ingest path,
// run every judged query, and report quality and speed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "answer/extractive.h"
#include "common/status.h"
#include "eval/metrics.h"
#include "ingest/ingestor.h"
#include "embed/embedder.h"
#include "retrieve/hybrid.h"
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

// Extractive answer figures (--answers), over the queries with gold answers.
struct AnswerEvalFigures {
  size_t questions = 0;
  double in_extract = 0;        // share whose answer text contains a gold answer
  double in_top1_passage = 0;   // ceiling reference: the first passage contains one
  double in_top_passages = 0;   // any of the passages given to the answerer does
  double mean_words = 0;        // answer length, citation markers included
  double p50_ms = 0, p99_ms = 0;  // answer generation only (not retrieval)
};

struct EvalOptions {
  std::string dir;
  std::string split = "test";
  std::string work_dir;  // temporary store and index go here
  SearcherOptions searcher;
  IngestOptions ingest;
  // Retrieval modes to measure (dense and hybrid need `embedder`); the
  // first one's figures also fill EvalReport's own fields.
  std::vector<RetrievalMode> modes = {RetrievalMode::kKeyword};
  std::shared_ptr<Embedder> embedder;
  HybridOptions hybrid;
  bool answers = false;      // also measure the extractive answerer
  size_t answer_k = 5;       // documents (best chunk each) given to it
  ExtractiveOptions answerer;
};

struct ModeFigures {
  std::string mode;  // "bm25", "dense", "hybrid"
  double ndcg10 = 0, recall100 = 0, mrr10 = 0;
  double query_p50_ms = 0, query_p99_ms = 0, query_mean_ms = 0;
};

struct EvalReport {
  std::vector<ModeFigures> modes;  // one per EvalOptions::modes
  double embed_seconds = 0;        // building the vector index (0 without an embedder)
  size_t documents = 0, queries = 0;
  double ndcg10 = 0, recall100 = 0, mrr10 = 0;
  double store_seconds = 0;  // parse, chunk, detect language, write the store
  double index_seconds = 0, query_p50_ms = 0, query_p99_ms = 0, query_mean_ms = 0;
  AnswerEvalFigures answers;  // filled when EvalOptions::answers
};

// Stores a BEIR corpus.jsonl as the documents of source ("beir", dir), all
// public, in one transaction (re-running replaces them).
Status IngestBeirCorpus(Store& store, const std::string& dir, const IngestOptions& options,
                        int64_t* source_id, size_t* documents);

Result<BeirDataset> LoadBeirQueries(const std::string& dir, const std::string& split);
Result<EvalReport> RunBeirEval(const EvalOptions& options);

}  // namespace savoir
