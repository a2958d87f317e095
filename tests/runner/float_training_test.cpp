// `ptqat train` end to end on the tiny synthetic nuScenes-format dataset: real files on disk,
// the real executable, a real HDF5 results file read back.

#include "runner/float_training.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "results/results_store.h"
#include "runner/checkpoint.h"
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
  EXPECT_NE(train.output.find("train epoch 1: "), std::string::npos) << train.output;
  EXPECT_NE(train.output.find("train kept the last checkpoint: "), std::string::npos)
      << train.output;

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
  // The kept model is the last epoch's, whatever the reported split said of the earlier one; the
  // record holds that model's metric, the learning curve's last point.
  const TrainingState kept = read_checkpoint_state(paths.checkpoint);
  EXPECT_EQ(kept.epoch, 2);
  EXPECT_EQ(kept.global_step, read_checkpoint_state(paths.last_checkpoint).global_step);
  EXPECT_EQ(runs[0].history.at("val_NDS").values.size(), 2u);
  EXPECT_EQ(runs[0].history.at("val_NDS").values.back(), runs[0].metrics.at("NDS"));

  // Again: the model is recorded, so nothing trains and its record stays, byte for byte.
  const results::ResultsStore store(dir.file("run"));
  const std::string recorded = ptqat::testing::read_bytes(store.record_path(paths.key));
  const testing::CliRun again = testing::ptqat(arguments);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("recorded, reusing"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("epoch 1"), std::string::npos) << again.output;
  EXPECT_EQ(ptqat::testing::read_bytes(store.record_path(paths.key)), recorded);

  // Evaluating the checkpoint records an evaluation of its own; again, it is not recorded twice.
  const std::string eval = "eval --checkpoint " + paths.checkpoint + " --set runtime.threads=1";
  ASSERT_EQ(testing::ptqat(eval).exit_code, 0);
  const testing::CliRun eval_again = testing::ptqat(eval);
  ASSERT_EQ(eval_again.exit_code, 0) << eval_again.output;
  EXPECT_NE(eval_again.output.find("recorded already"), std::string::npos) << eval_again.output;
  EXPECT_EQ(store.keys().size(), 2u);
  EXPECT_EQ(ptqat::testing::read_bytes(store.record_path(paths.key)), recorded);

  // --force trains afresh (not "resuming" the finished run) and keeps the earlier record as a
  // superseded version; the new record has the whole history.
  const testing::CliRun forced = testing::ptqat(arguments + " --force");
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(forced.output.find("train epoch 1"), std::string::npos) << forced.output;
  EXPECT_EQ(forced.output.find("resuming"), std::string::npos) << forced.output;
  const std::vector<std::string> versions = store.superseded(paths.key);
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(ptqat::testing::read_bytes(versions[0]), recorded);
  EXPECT_EQ(store.read(paths.key).history.at("loss").values.size(), 16u);
  runs = results::read_results(dir.file("run/results.h5"));
  EXPECT_EQ(runs.size(), 2u);  // the float model and its evaluation; versions are not runs
}

TEST(FloatTraining, TheBestModelIsChosenOnTheSelectionSplitNeverOnTheReportedOne) {
  ptqat::testing::TempDir dir;
  const std::string data = dir.file("synth-tiny");
  ASSERT_EQ(testing::ptqat("data synth --preset tiny --out " + data).exit_code, 0);
  const std::string arguments = "train --config " + std::string(PTQAT_SOURCE_DIR) +
                                "/configs/detection/tiny.toml --set data.dataroot=" + data +
                                " --set output.dir=" + dir.file("run") +
                                " --set runtime.threads=1 --set train.select=best";
  // Choosing on the reported split, or on none, is refused before anything runs.
  for (const char* split : {"", " --set data.select_split=synth_val"}) {
    const testing::CliRun refused = testing::ptqat(arguments + std::string(split));
    EXPECT_EQ(refused.exit_code, 1) << refused.output;
    EXPECT_NE(refused.output.find("train.select = \"best\""), std::string::npos) << refused.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("run/checkpoints")));
  const testing::CliRun train = testing::ptqat(arguments + " --set data.select_split=synth_train");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find("train epoch 2 (selection split): "), std::string::npos)
      << train.output;
  const std::vector<results::RunRecord> runs = results::read_results(dir.file("run/results.h5"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].history.at("select_NDS").values.size(), 2u);
  EXPECT_EQ(runs[0].history.count("val_NDS"), 0u);  // the reported split was never looked at
  // The record is the kept checkpoint's metric on the reported split, as `ptqat eval` gives it.
  const std::string metrics = dir.file("metrics.json");
  const testing::CliRun eval =
      testing::ptqat("eval --set runtime.threads=1 --metrics-json " + metrics + " --checkpoint " +
                     dir.file("run/checkpoints/" + runs[0].key + ".pt"));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  const std::string json = ptqat::testing::read_bytes(metrics);
  const size_t at = json.find("\"NDS\":");
  ASSERT_NE(at, std::string::npos) << json;
  EXPECT_NEAR(std::stod(json.substr(at + 6)), runs[0].metrics.at("NDS"), 1e-12);
}

TEST(FloatTraining, AFolderAsConfigOrAFileAsOutputFailsBeforeTraining) {
  ptqat::testing::TempDir dir;
  const testing::CliRun folder = testing::ptqat("train --config " + dir.path().string());
  EXPECT_NE(folder.exit_code, 0);
  EXPECT_NE(folder.output.find(dir.path().string() + ": expected a TOML config file, got a folder"),
            std::string::npos)
      << folder.output;
  EXPECT_EQ(folder.output.find("epoch"), std::string::npos) << folder.output;

  std::ofstream(dir.file("taken")) << "a file where the output folder should be\n";
  const testing::CliRun output = testing::ptqat(
      "train --config " + std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml" +
      " --set data.dataroot=" + dir.file("nothing-needed") +
      " --set output.dir=" + dir.file("taken"));
  EXPECT_NE(output.exit_code, 0);
  EXPECT_NE(output.output.find(dir.file("taken")), std::string::npos) << output.output;
  EXPECT_EQ(output.output.find("epoch"), std::string::npos) << output.output;
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
