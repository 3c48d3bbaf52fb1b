// Metric code checked on cases computed by hand (trec_eval conventions).
#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace savoir {
namespace {

TEST(Metrics, NdcgWithGradedGainsAndIdealFromQrels) {
  Qrels q = {{"a", 2}, {"b", 1}, {"c", 1}};
  // Ranking: x, a, b. DCG = 2/log2(3) + 1/log2(4); IDCG = 2 + 1/log2(3) + 1/log2(4).
  double dcg = 2 / std::log2(3.0) + 0.5;
  double idcg = 2 + 1 / std::log2(3.0) + 0.5;
  EXPECT_NEAR(NdcgAt({"x", "a", "b"}, q, 10), dcg / idcg, 1e-12);
  EXPECT_NEAR(NdcgAt({"a", "b", "c"}, q, 10), 1.0, 1e-12);
  EXPECT_NEAR(NdcgAt({"x", "y"}, q, 10), 0.0, 1e-12);
  // Cut-off: only the first k count.
  EXPECT_NEAR(NdcgAt({"x", "a"}, q, 1), 0.0, 1e-12);
}

TEST(Metrics, ZeroGradeJudgmentsAreNotRelevant) {
  Qrels q = {{"a", 0}, {"b", 1}};
  EXPECT_NEAR(RecallAt({"a"}, q, 100), 0.0, 1e-12);
  EXPECT_NEAR(MrrAt({"a", "b"}, q, 10), 0.5, 1e-12);
  EXPECT_NEAR(NdcgAt({"b"}, q, 10), 1.0, 1e-12);
}

TEST(Metrics, RecallAndMrrCutoffs) {
  Qrels q = {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}};
  EXPECT_NEAR(RecallAt({"a", "x", "b"}, q, 100), 0.5, 1e-12);
  EXPECT_NEAR(RecallAt({"a", "x", "b"}, q, 2), 0.25, 1e-12);
  EXPECT_NEAR(MrrAt({"x", "y", "c"}, q, 10), 1.0 / 3, 1e-12);
  EXPECT_NEAR(MrrAt({"x", "y", "c"}, q, 2), 0.0, 1e-12);
}

TEST(Metrics, PercentileByNearestRank) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_EQ(Percentile(v, 50), 3);
  EXPECT_EQ(Percentile(v, 99), 5);
  EXPECT_EQ(Percentile(v, 0), 1);
}

}  // namespace
}  // namespace savoir
