#include "eval/metrics.h"

#include <algorithm>
#include <cmath>

namespace savoir {

double NdcgAt(const std::vector<std::string>& ranking, const Qrels& qrels, size_t k) {
  double dcg = 0;
  for (size_t i = 0; i < ranking.size() && i < k; ++i) {
    auto it = qrels.find(ranking[i]);
    if (it != qrels.end() && it->second > 0) dcg += it->second / std::log2(i + 2.0);
  }
  std::vector<int> grades;
  for (const auto& [_, g] : qrels)
    if (g > 0) grades.push_back(g);
  std::sort(grades.rbegin(), grades.rend());
  double idcg = 0;
  for (size_t i = 0; i < grades.size() && i < k; ++i) idcg += grades[i] / std::log2(i + 2.0);
  return idcg > 0 ? dcg / idcg : 0.0;
}

double RecallAt(const std::vector<std::string>& ranking, const Qrels& qrels, size_t k) {
  size_t relevant = 0, found = 0;
  for (const auto& [_, g] : qrels) relevant += g > 0;
  for (size_t i = 0; i < ranking.size() && i < k; ++i) {
    auto it = qrels.find(ranking[i]);
    if (it != qrels.end() && it->second > 0) ++found;
  }
  return relevant ? double(found) / relevant : 0.0;
}

double MrrAt(const std::vector<std::string>& ranking, const Qrels& qrels, size_t k) {
  for (size_t i = 0; i < ranking.size() && i < k; ++i) {
    auto it = qrels.find(ranking[i]);
    if (it != qrels.end() && it->second > 0) return 1.0 / (i + 1);
  }
  return 0.0;
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::min(values.size() - 1, rank ? rank - 1 : 0)];
}

}  // namespace savoir
