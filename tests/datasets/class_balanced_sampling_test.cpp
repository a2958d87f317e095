// CBGS: the resampled training split holds every class about equally often.

#include "datasets/class_balanced_sampling.h"

#include <gtest/gtest.h>

#include <map>

#include "datasets/nuscenes/categories.h"
#include "datasets/synth/synth_dataset.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {
namespace {

TEST(ClassBalancedSampling, EachPresentClassGetsTheSameNumberOfDraws) {
  // Samples 0..5; class 0 in all of them, class 1 in sample 5 only, class 2 in none.
  const std::vector<Row> rows = {10, 11, 12, 13, 14, 15};
  const std::vector<std::vector<int>> classes = {{0}, {0}, {0}, {0}, {0}, {0, 1}};
  const std::vector<Row> balanced = class_balanced_rows(rows, classes, 3, 7);
  // N = 7 (sample, class) pairs, f = 1/3: floor(7 / 3) = 2 draws of each present class.
  ASSERT_EQ(balanced.size(), 4u);
  EXPECT_EQ(balanced[2], 15);  // class 1's draws can only be its one sample
  EXPECT_EQ(balanced[3], 15);
  EXPECT_EQ(class_balanced_rows(rows, classes, 3, 7), balanced);  // seeded
}

TEST(ClassBalancedSampling, TheSyntheticTrainingSplitBecomesBalanced) {
  ptqat::testing::TempDir dir;
  SynthOptions options;
  options.preset = "tiny";
  options.scenes = 4;
  options.samples_per_scene = 4;
  options.select_scenes = 0;  // three training scenes
  write_synth_dataset(options, dir.path().string());
  const NuScenes nusc(dir.path().string(), "v1.0-synth");
  const std::vector<Row> rows = nusc.split_samples("synth_train");
  const std::vector<std::vector<int>> classes = sample_detection_classes(nusc, rows);

  // The histogram of (sample, class) pairs before and after.
  const auto histogram = [&](const std::vector<Row>& chosen) {
    std::map<Row, const std::vector<int>*> of;
    for (size_t i = 0; i < rows.size(); ++i) of[rows[i]] = &classes[i];
    std::vector<double> counts(kNumDetectionClasses, 0.0);
    for (const Row row : chosen) {
      for (const int c : *of.at(row)) counts[static_cast<size_t>(c)] += 1;
    }
    return counts;
  };
  const auto rarest_share = [](const std::vector<double>& counts) {
    double total = 0, rarest = 1e300;
    for (const double n : counts) {
      total += n;
      if (n > 0) rarest = std::min(rarest, n);
    }
    return rarest / total;
  };
  const std::vector<double> before = histogram(rows);
  const std::vector<Row> balanced = class_balanced_rows(rows, classes, kNumDetectionClasses, 0);
  const std::vector<double> after = histogram(balanced);
  // Each present class drew floor(N / 10) of its own samples, so it occurs at least that often.
  double pairs = 0;
  int present = 0;
  for (const double n : before) {
    pairs += n;
    present += n > 0 ? 1 : 0;
  }
  const auto draws = static_cast<double>(static_cast<int64_t>(pairs / kNumDetectionClasses));
  EXPECT_EQ(static_cast<double>(balanced.size()), present * draws);
  for (int c = 0; c < kNumDetectionClasses; ++c) {
    const double n = after[static_cast<size_t>(c)];
    if (before[static_cast<size_t>(c)] > 0) {
      EXPECT_GE(n, draws) << kDetectionNames[static_cast<size_t>(c)];
    } else {
      EXPECT_EQ(n, 0);
    }
  }
  // The rarest class's share of the (sample, class) pairs grows.
  EXPECT_GT(rarest_share(after), rarest_share(before));
}

}  // namespace
}  // namespace ptqat::datasets
