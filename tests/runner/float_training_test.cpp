// `ptqat train` end to end on the tiny synthetic nuScenes-format dataset: real files on disk,
// the real executable, a real HDF5 results file read back.

#include "runner/float_training.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "results/results_store.h"
#include "runner/stage_context.h"
#include "runner/stage_keys.h"
#include "tests/runner/cli_run.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {
namespace {

TEST(FloatTraining, TrainsEvaluatesRecordsAndResumesOnTheTinySyntheticDataset) {
  ptqat::testing::TempDir dir;
  const std::string data = dir.file("synth-tiny");
  const testing::CliRun synth = testing::ptqat("data synth --preset tiny --out " + data);
  ASSERT_EQ(synth.exit_code, 0) << synth.output;

  const std::string config = std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml";
  const std::string arguments = "train --config " + config + " --set data.dataroot=" + data +
                                " --set output.dir=" + dir.file("run") + " --set runtime.threads=1";
  const testing::CliRun train = testing::ptqat(arguments);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find("train epoch 2: "), std::string::npos) << train.output;

  // The checkpoint is named by the float-training stage key, and the record holds the metric.
  RunConfig resolved = with_ranks(
      load_run_config(config, {"data.dataroot=" + data, "output.dir=" + dir.file("run")}), 1);
  const StagePaths paths = stage_paths(resolved, stage_keys(resolved).float_train);
  EXPECT_TRUE(std::filesystem::exists(paths.checkpoint));
  EXPECT_TRUE(std::filesystem::exists(paths.last_checkpoint));
  std::vector<results::RunRecord> runs = results::read_results(dir.file("run/results.h5"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].key, paths.key);
  EXPECT_EQ(runs[0].stage, "float_train");
  EXPECT_EQ(runs[0].method, "float");
  ASSERT_EQ(runs[0].metrics.count("NDS"), 1u);
  EXPECT_GE(runs[0].metrics.at("NDS"), 0.0);
  EXPECT_LE(runs[0].metrics.at("NDS"), 1.0);
  EXPECT_EQ(runs[0].per_class.at("AP").size(), 10u);
  EXPECT_GT(runs[0].trainable_parameters, 0);
  // 2 epochs of 8 steps (16 synth_train samples, batch 2).
  EXPECT_EQ(runs[0].history.at("loss").values.size(), 16u);
  const double best_nds = runs[0].metrics.at("NDS");

  // Again: the last checkpoint is after the last epoch, so nothing trains; the record stays one
  // run under the same key with the same best metric.
  const testing::CliRun again = testing::ptqat(arguments);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resuming"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("epoch 1: "), std::string::npos) << again.output;
  runs = results::read_results(dir.file("run/results.h5"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_DOUBLE_EQ(runs[0].metrics.at("NDS"), best_nds);
}

TEST(FloatTraining, AMissingDatasetIsAOneLineError) {
  ptqat::testing::TempDir dir;
  const testing::CliRun run = testing::ptqat(
      "train --config " + std::string(PTQAT_SOURCE_DIR) +
      "/configs/detection/tiny.toml --set data.dataroot=" + dir.file("nothing-here"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("error: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("nothing-here"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace ptqat::runner
