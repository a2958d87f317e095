// Every task and architecture through the same pipeline, as a user runs it: `ptqat sweep` of
// float training -> PTQ -> full QAT -> PTQAT (both rules) on the tiny synthetic dataset, `ptqat
// report` over the results, and `ptqat eval --export-dir` of the PTQAT model in the challenge
// format.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "results/results_store.h"
#include "tests/runner/cli_run.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {
namespace {

struct Pipeline {
  std::string config;  ///< under configs/
  std::string task;
  std::string primary;  ///< the metric the report ranks by
  std::string title;    ///< how the report names the model: its stages' names begin with it
};

void PrintTo(const Pipeline& pipeline, std::ostream* out) { *out << pipeline.config; }

class TaskPipeline : public ::testing::TestWithParam<Pipeline> {
 protected:
  static void SetUpTestSuite() {
    data_ = std::make_unique<ptqat::testing::TempDir>();
    const testing::CliRun synth =
        testing::ptqat("data synth --preset tiny --out " + data_->file("data"));
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
  }
  static void TearDownTestSuite() { data_.reset(); }

  static std::unique_ptr<ptqat::testing::TempDir> data_;
  ptqat::testing::TempDir dir_;
};

std::unique_ptr<ptqat::testing::TempDir> TaskPipeline::data_;

TEST_P(TaskPipeline, TrainsQuantizesFineTunesEvaluatesAndReports) {
  const Pipeline& p = GetParam();
  const std::string sweep = dir_.file("sweep.toml");
  std::ofstream(sweep) << "base = \"" << PTQAT_SOURCE_DIR << "/configs/" << p.config << "\"\n"
                       << "[grid]\n\"quant.method\" = [\"ptq\", \"qat\", \"ptqat\"]\n"
                       << "\"quant.rule\" = [\"smallest\", \"largest\"]\n";
  const testing::CliRun run =
      testing::ptqat("sweep " + sweep + " --set data.dataroot=" + data_->file("data") +
                     " --set output.dir=" + dir_.file("run") + " --set runtime.threads=1" +
                     " --set train.epochs=1");
  ASSERT_EQ(run.exit_code, 0) << run.output;

  // float, calibration, QAT, PTQAT smallest and largest: five stages of this task, each scored
  // with its official metric.
  std::map<std::string, int> stages;
  std::string ptqat_key;
  size_t layer_count = 0;
  for (const results::RunRecord& record : results::read_results(dir_.file("run/results.h5"))) {
    EXPECT_EQ(record.task, p.task);
    ++stages[record.stage + "/" + record.method];
    ASSERT_EQ(record.metrics.count(p.primary), 1u) << record.key;
    EXPECT_TRUE(std::isfinite(record.metrics.at(p.primary))) << record.key;
    if (record.stage == "calibrate") layer_count = record.layers.size();
    if (record.method == "ptqat") {
      ptqat_key = record.key;
      // Half the ranked layers (rounded up); the int8 edge layers are not ranked.
      int frozen = 0;
      int ranked = 0;
      for (const auto& layer : record.layers) {
        frozen += layer.frozen ? 1 : 0;
        ranked += layer.ranked ? 1 : 0;
        EXPECT_TRUE(layer.ranked || !layer.frozen) << layer.name;
        EXPECT_EQ(layer.measures.size(), 6u) << layer.name;
      }
      EXPECT_EQ(ranked, static_cast<int>(record.layers.size()) - 2) << record.key;
      EXPECT_EQ(frozen, (ranked + 1) / 2) << record.key;
      EXPECT_EQ(record.frozen_overlap.size(), 6u) << record.key;
    }
  }
  EXPECT_EQ(stages, (std::map<std::string, int>{{"float_train/float", 1},
                                                {"calibrate/ptq", 1},
                                                {"fine_tune/qat", 1},
                                                {"fine_tune/ptqat", 2}}));
  EXPECT_GT(layer_count, 3u);

  const testing::CliRun report = testing::ptqat("report " + dir_.file("run/results.h5"));
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(report.output.find("### " + p.title + ": float model"), std::string::npos)
      << report.output;
  EXPECT_NE(report.output.find("Δ " + p.primary + " vs QAT"), std::string::npos) << report.output;

  const std::string exported = dir_.file("export");
  const std::string metrics_path = dir_.file("metrics.json");
  const testing::CliRun eval = testing::ptqat(
      "eval --checkpoint " + dir_.file("run/checkpoints/" + ptqat_key + ".pt") + " --export-dir " +
      exported + " --export-json " + dir_.file("submission.json") + " --metrics-json " +
      metrics_path + " --set runtime.threads=1");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  std::ifstream metrics_file(metrics_path);
  const nlohmann::json metrics = nlohmann::json::parse(metrics_file);
  EXPECT_TRUE(metrics.contains(p.primary)) << metrics.dump();
  if (p.task == "segmentation") {
    EXPECT_EQ(metrics.at("per_class_IoU").size(), 16u);
    EXPECT_TRUE(std::filesystem::is_regular_file(exported + "/synth_val/submission.json"));
    EXPECT_FALSE(std::filesystem::is_empty(exported + "/lidarseg/synth_val"));
  } else if (p.task == "occupancy") {
    EXPECT_EQ(metrics.at("per_class_IoU").size(), 18u);
    EXPECT_FALSE(std::filesystem::is_empty(exported + "/occupancy"));
  } else {
    EXPECT_EQ(metrics.at("per_class_AP").size(), 10u);
    EXPECT_TRUE(std::filesystem::is_regular_file(dir_.file("submission.json")));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryTask, TaskPipeline,
                         ::testing::Values(Pipeline{"segmentation/tiny.toml", "segmentation",
                                                    "mIoU", "segmentation-cnn"},
                                           Pipeline{"occupancy/tiny.toml", "occupancy", "mIoU",
                                                    "occupancy-cnn"},
                                           Pipeline{"detection/transformer_tiny.toml", "detection",
                                                    "NDS", "detection-transformer"}),
                         [](const ::testing::TestParamInfo<Pipeline>& info) {
                           std::string name =
                               info.param.config.substr(0, info.param.config.find('.'));
                           for (char& c : name) {
                             if (c == '/') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace ptqat::runner
