#include "results/statistics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ptqat::results {
namespace {

TEST(Statistics, StudentTQuantilesMatchTheTables) {
  // t(0.975, df), as printed in every statistics table.
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.7062, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.3027, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 4), 2.7764, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.2281, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.0423, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 1e6), 1.9600, 1e-4);  // the normal's
  EXPECT_NEAR(student_t_quantile(0.95, 5), 2.0150, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.025, 4), -2.7764, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.5, 3), 0.0, 1e-12);
}

TEST(Statistics, PairedDifferencesGiveTheTIntervalOfTheirMean) {
  const PairedStats three = paired_stats({0.005, 0.005, 0.004});
  EXPECT_EQ(three.differences.count, 3u);
  EXPECT_NEAR(three.differences.mean, 0.0046667, 1e-7);
  EXPECT_NEAR(three.differences.stddev, 0.00057735, 1e-8);
  const double half = 4.30265 * 0.00057735 / std::sqrt(3.0);
  EXPECT_NEAR(three.low, 0.0046667 - half, 1e-6);
  EXPECT_NEAR(three.high, 0.0046667 + half, 1e-6);
  EXPECT_TRUE(three.has_interval);
  const PairedStats one = paired_stats({0.25});
  EXPECT_FALSE(one.has_interval);
  EXPECT_EQ(one.low, 0.25);
  EXPECT_EQ(paired_stats({}).differences.count, 0u);
  const SeedStats spread = seed_stats({0.40, 0.42});
  EXPECT_NEAR(spread.stddev, 0.0141421356, 1e-9);
}

}  // namespace
}  // namespace ptqat::results
