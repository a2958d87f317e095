#include "tasks/detection/numpy_semantics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ptqat::tasks::detection {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

TEST(NumpyInterp, DuplicateXpTakesTheLastEqualIndex) {
  // docs/nuscenes.md: xp=[.1,.1,.2], fp=[1,.5,.66] gives 0.5 at .1 and 0.58 at .15 (numpy 1.24).
  const auto out = numpy_interp({0.1, 0.15}, {0.1, 0.1, 0.2}, {1.0, 0.5, 0.66});
  EXPECT_DOUBLE_EQ(out[0], 0.5);
  EXPECT_NEAR(out[1], 0.58, 1e-15);
}

TEST(NumpyInterp, OutsideTheRangeGivesLeftAndRight) {
  const std::vector<double> xp = {0.25, 0.5, 0.5, 1.0}, fp = {1.0, 0.8, 0.6, 0.4};
  const auto defaults = numpy_interp({0.0, 1.0, 1.5}, xp, fp);
  EXPECT_EQ(defaults[0], 1.0);  // left defaults to fp[0]
  EXPECT_EQ(defaults[1], 0.4);  // x == xp[-1] gives fp[-1], not `right`
  EXPECT_EQ(defaults[2], 0.4);  // right defaults to fp[-1]
  const auto explicit_bounds = numpy_interp({0.0, 1.0, 1.5}, xp, fp, -1.0, 0.0);
  EXPECT_EQ(explicit_bounds[0], -1.0);
  EXPECT_EQ(explicit_bounds[1], 0.4);
  EXPECT_EQ(explicit_bounds[2], 0.0);
  // Between the run of 0.5 and 1.0 the line starts at the LAST 0.5 (fp 0.6): 0.6 - 0.2 * 0.5.
  EXPECT_NEAR(numpy_interp({0.75}, xp, fp)[0], 0.5, 1e-15);
  // At 0.5 exactly: the last equal index.
  EXPECT_EQ(numpy_interp({0.5}, xp, fp)[0], 0.6);
}

TEST(NumpyInterp, SinglePointAndNan) {
  const auto out = numpy_interp({0.5, 1.0, 2.0}, {1.0}, {7.0}, 0.0, 3.0);
  EXPECT_EQ(out[0], 0.0);
  EXPECT_EQ(out[1], 7.0);
  EXPECT_EQ(out[2], 3.0);
  EXPECT_TRUE(std::isnan(numpy_interp({kNan}, {0.0, 1.0}, {0.0, 1.0})[0]));
}

TEST(CummeanNan, LeadingNansGiveZero) {
  const auto out = cummean_nan({kNan, kNan, 2.0, 4.0});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], 0.0);
  EXPECT_EQ(out[1], 0.0);
  EXPECT_EQ(out[2], 2.0);
  EXPECT_EQ(out[3], 3.0);
}

TEST(CummeanNan, InnerNansAreSkippedAndAllNanGivesOnes) {
  const auto mixed = cummean_nan({1.0, kNan, 3.0});
  EXPECT_EQ(mixed[0], 1.0);
  EXPECT_EQ(mixed[1], 1.0);
  EXPECT_EQ(mixed[2], 2.0);
  EXPECT_EQ(cummean_nan({kNan, kNan}), (std::vector<double>{1.0, 1.0}));
}

TEST(NumpySum, PairwiseBlocksMatchNumpyOrder) {
  // 10 values: eight accumulators r[j] = a[j], combined ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)),
  // then a[8] and a[9] added in turn. 1e16 + 1 + 1 in sequence loses both ones; pairwise keeps
  // them when they meet first.
  std::vector<double> values = {1e16, 1.0, 1.0, 1.0, -1e16, 0, 0, 0, 0, 0};
  const double expected = ((1e16 + 1.0) + (1.0 + 1.0)) + ((-1e16 + 0.0) + (0.0 + 0.0)) + 0.0 + 0.0;
  EXPECT_EQ(numpy_sum(values.data(), values.size()), expected);
  EXPECT_EQ(numpy_mean(std::vector<double>{1.0, 2.0, 4.0}), 7.0 / 3.0);
  EXPECT_EQ(numpy_nanmean({1.0, kNan, 4.0}), 2.5);
  EXPECT_TRUE(std::isnan(numpy_nanmean({kNan, kNan})));
}

TEST(UnitLinspace, MatchesNumpyStepProducts) {
  const auto grid = unit_linspace(101);
  ASSERT_EQ(grid.size(), 101u);
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(grid[i], static_cast<double>(i) * 0.01);
  EXPECT_EQ(grid[100], 1.0);
}

TEST(AngleDiff, PythonFlooredModuloAndBarrierPeriod) {
  EXPECT_EQ(python_mod(-1.0, 3.0), 2.0);
  EXPECT_EQ(python_mod(1.0, -3.0), -2.0);
  EXPECT_NEAR(angle_diff(0.1, -0.1, 2 * M_PI), 0.2, 1e-15);
  // Across the +-pi seam the difference is small and signed.
  EXPECT_NEAR(angle_diff(M_PI - 0.1, -M_PI + 0.1, 2 * M_PI), -0.2, 1e-14);
  // A barrier turned by 180 degrees has no orientation error with period pi.
  EXPECT_NEAR(angle_diff(0.0, M_PI, M_PI), 0.0, 1e-15);
  EXPECT_NEAR(std::abs(angle_diff(0.0, M_PI, 2 * M_PI)), M_PI, 1e-15);
}

}  // namespace
}  // namespace ptqat::tasks::detection
