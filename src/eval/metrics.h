// Retrieval metrics computed as BEIR / pytrec_eval (trec_eval) do: graded
// linear gains from the qrels, ideal DCG from all judged documents of the
// query, relevance = grade > 0 for recall and MRR.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace savoir {

using Qrels = std::map<std::string, int>;  // doc id -> grade

double NdcgAt(const std::vector<std::string>& ranking, const Qrels& qrels, size_t k);
double RecallAt(const std::vector<std::string>& ranking, const Qrels& qrels, size_t k);
double MrrAt(const std::vector<std::string>& ranking, const Qrels& qrels, size_t k);

// The p-th percentile (0..100) by nearest rank of `values` (sorted in place).
double Percentile(std::vector<double>& values, double p);

}  // namespace savoir
