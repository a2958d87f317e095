// `mpirun -np 2 ptqat ...`: the real launcher, the real executable, the tiny synthetic dataset.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "results/results_store.h"
#include "tests/runner/cli_run.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {
namespace {

const std::string kConfig = std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml";

/// `ptqat <arguments>` on two ranks started by mpirun.
testing::CliRun two_ranks(const std::string& arguments) {
  return testing::run_command(std::string(PTQAT_MPIEXEC) + " -np 2 " + PTQAT_EXECUTABLE + " " +
                              arguments);
}

TEST(DataParallelRun, TrainAndQuantizeShardEveryEpochOverTwoRanksAndReportOnce) {
  ptqat::testing::TempDir dir;
  ASSERT_EQ(testing::ptqat("data synth --preset tiny --out " + dir.file("data")).exit_code, 0);
  const std::string common = "--config " + kConfig + " --set data.dataroot=" + dir.file("data") +
                             " --set output.dir=" + dir.file("run") + " --set runtime.threads=1";
  const testing::CliRun train = two_ranks("train " + common);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const testing::CliRun quantize = two_ranks("quantize " + common + " --method qat");
  ASSERT_EQ(quantize.exit_code, 0) << quantize.output;
  // One report: only rank 0 prints.
  const auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(train.output, "float model "), 1u) << train.output;
  EXPECT_EQ(count(quantize.output, "fine-tune "), 1u) << quantize.output;

  const std::vector<results::RunRecord> runs = results::read_results(dir.file("run/results.h5"));
  ASSERT_EQ(runs.size(), 3u);  // float_train, calibrate, fine_tune
  for (const results::RunRecord& run : runs) {
    if (run.stage == "float_train") {
      // 16 training samples, batch 2 per rank, 2 ranks: 4 steps per epoch, 2 epochs (one rank
      // alone takes 8 per epoch: tests/runner/float_training_test.cpp).
      EXPECT_EQ(run.history.at("loss").values.size(), 8u);
    }
    if (run.stage == "fine_tune") {
      EXPECT_EQ(run.history.at("loss").values.size(), 4u);  // 1 epoch
    }
  }

  // Sharded evaluation: 2 ranks each run half of the split (8 validation samples, 3 batches of
  // 2 per rank with the last padded), gather the predictions, and report the metrics of one
  // process to the last digit.
  // One number per model: what a record reports is what its checkpoint gives under `ptqat eval`,
  // on one rank and on two. Each rank's BatchNorm statistics followed its own shard, and the
  // in-training evaluation ran each shard on its own rank's model, not the saved one.
  for (const results::RunRecord& run : runs) {
    if (run.stage == "calibrate") continue;
    const std::string eval = "eval --set runtime.threads=1 --checkpoint " +
                             dir.file("run/checkpoints/" + run.key + ".pt") + " --metrics-json ";
    ASSERT_EQ(testing::ptqat(eval + dir.file("one.json")).exit_code, 0);
    const testing::CliRun sharded = two_ranks(eval + dir.file("two.json"));
    ASSERT_EQ(sharded.exit_code, 0) << sharded.output;
    auto one = nlohmann::json::parse(std::ifstream(dir.file("one.json")));
    auto two = nlohmann::json::parse(std::ifstream(dir.file("two.json")));
    one["devkit"].erase("eval_time");  // the metric's own run time
    two["devkit"].erase("eval_time");
    // The record (evaluated on the two training ranks) is what the kept checkpoint gives on two.
    for (const char* metric : {"NDS", "mAP", "mATE"}) {
      EXPECT_NEAR(two.at(metric).get<double>(), run.metrics.at(metric), 1e-9)
          << run.stage << " " << metric;
    }
    if (run.stage == "fine_tune") {
      EXPECT_EQ(one, two);
    } else {
      // One rank batches the samples differently (the two-rank shards pad their last batch), and
      // the float model's box regressions round differently at 1e-7: the metrics agree to 1e-5,
      // not bit for bit (docs/sweeps.md "One number per model").
      EXPECT_NEAR(one.at("NDS").get<double>(), run.metrics.at("NDS"), 1e-5);
    }
  }
}

TEST(DataParallelRun, AFailingRankEndsTheWholeJobWithItsError) {
  ptqat::testing::TempDir dir;
  const testing::CliRun run =
      two_ranks("train --config " + kConfig + " --set data.dataroot=" + dir.file("missing"));
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("missing"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("[rank "), std::string::npos) << run.output;
}

}  // namespace
}  // namespace ptqat::runner
