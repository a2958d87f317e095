// The pipeline end to end on the tiny synthetic nuScenes-format dataset with the real
// executable: train -> quantize (ptq, qat, ptqat smallest / largest) -> eval of every stage's
// checkpoint, and the HDF5 records read back.

#include "runner/quantization.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/stage_key.h"
#include "results/results_store.h"
#include "runner/checkpoint.h"
#include "runner/evaluation.h"
#include "runner/run_config.h"
#include "runner/stage_context.h"
#include "runner/stage_keys.h"
#include "tests/runner/cli_run.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {
namespace {

const std::string kConfig = std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml";

/// One float model on the tiny dataset, trained once for the whole suite.
class QuantizePipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<ptqat::testing::TempDir>();
    const testing::CliRun synth =
        testing::ptqat("data synth --preset tiny --out " + dir_->file("data"));
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    const testing::CliRun train = testing::ptqat("train " + common_arguments());
    ASSERT_EQ(train.exit_code, 0) << train.output;
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string common_arguments() {
    return "--config " + kConfig + " --set data.dataroot=" + dir_->file("data") +
           " --set output.dir=" + dir_->file("run") + " --set runtime.threads=1";
  }
  static RunConfig config(const std::vector<std::string>& overrides) {
    std::vector<std::string> all = {"data.dataroot=" + dir_->file("data"),
                                    "output.dir=" + dir_->file("run")};
    all.insert(all.end(), overrides.begin(), overrides.end());
    return with_ranks(load_run_config(kConfig, all), 1);  // as `ptqat quantize` alone resolves it
  }
  static testing::CliRun quantize(const std::string& options) {
    return testing::ptqat("quantize " + common_arguments() + " " + options);
  }
  static results::RunRecord record(const std::string& key) {
    for (results::RunRecord& run : results::read_results(dir_->file("run/results.h5"))) {
      if (run.key == key) return run;
    }
    ADD_FAILURE() << "no record " << key << " in results.h5";
    return {};
  }
  static std::set<std::string> frozen_layers(const results::RunRecord& run) {
    std::set<std::string> names;
    for (const auto& row : run.layers) {
      if (row.frozen) names.insert(row.name);
    }
    return names;
  }

  static std::unique_ptr<ptqat::testing::TempDir> dir_;
};

std::unique_ptr<ptqat::testing::TempDir> QuantizePipeline::dir_;

TEST_F(QuantizePipeline, PtqQatAndPtqatRecordTheirStagesAndShareOneCalibration) {
  const testing::CliRun ptq = quantize("--method ptq");
  ASSERT_EQ(ptq.exit_code, 0) << ptq.output;
  const testing::CliRun qat = quantize("--method qat");
  ASSERT_EQ(qat.exit_code, 0) << qat.output;
  const testing::CliRun smallest = quantize("--method ptqat --freeze-ratio 0.5 --rule smallest");
  ASSERT_EQ(smallest.exit_code, 0) << smallest.output;
  const testing::CliRun largest = quantize("--method ptqat --freeze-ratio 0.5 --rule largest");
  ASSERT_EQ(largest.exit_code, 0) << largest.output;
  // The calibration ran once; the later methods reused it.
  EXPECT_EQ(qat.output.find("recorded, reusing") != std::string::npos, true) << qat.output;

  const StageKeys ptq_keys = stage_keys(config({"quant.method=ptq"}));
  const StageKeys qat_keys = stage_keys(config({"quant.method=qat"}));
  const StageKeys smallest_keys = stage_keys(config({"quant.method=ptqat", "quant.rule=smallest"}));
  const StageKeys largest_keys = stage_keys(config({"quant.method=ptqat", "quant.rule=largest"}));
  EXPECT_TRUE(ptq_keys.fine_tune.empty());
  EXPECT_EQ(qat_keys.calibrate, ptq_keys.calibrate);
  EXPECT_EQ(smallest_keys.calibrate, ptq_keys.calibrate);
  // QAT ignores the PTQAT knobs: they do not split its key.
  EXPECT_EQ(stage_keys(config({"quant.method=qat", "quant.freeze_ratio=0.3"})).fine_tune,
            qat_keys.fine_tune);
  EXPECT_NE(smallest_keys.fine_tune, largest_keys.fine_tune);

  const results::RunRecord float_run = record(ptq_keys.float_train);
  const results::RunRecord calibration = record(ptq_keys.calibrate);
  EXPECT_EQ(calibration.stage, "calibrate");
  EXPECT_EQ(calibration.method, "ptq");
  EXPECT_EQ(calibration.parent_key, float_run.key);
  EXPECT_EQ(calibration.trainable_parameters, 0);
  ASSERT_FALSE(calibration.layers.empty());
  for (const auto& row : calibration.layers) {
    EXPECT_TRUE(std::isfinite(row.discrepancy) && row.discrepancy >= 0) << row.name;
    EXPECT_FALSE(row.frozen) << row.name;
  }
  EXPECT_EQ(calibration.metrics.count("NDS"), 1u);
  // The int8 first and last layers are not ranked: PTQAT chooses among the others.
  size_t ranked_count = 0;
  for (const auto& row : calibration.layers) ranked_count += row.ranked ? 1 : 0;
  EXPECT_EQ(ranked_count, calibration.layers.size() - 2);

  const results::RunRecord qat_run = record(qat_keys.fine_tune);
  EXPECT_EQ(qat_run.stage, "fine_tune");
  EXPECT_EQ(qat_run.method, "qat");
  EXPECT_EQ(qat_run.parent_key, calibration.key);
  EXPECT_TRUE(frozen_layers(qat_run).empty());
  EXPECT_FALSE(qat_run.history.at("loss").values.empty());

  const results::RunRecord smallest_run = record(smallest_keys.fine_tune);
  const results::RunRecord largest_run = record(largest_keys.fine_tune);
  EXPECT_EQ(smallest_run.method, "ptqat");
  const std::set<std::string> frozen_smallest = frozen_layers(smallest_run);
  const std::set<std::string> frozen_largest = frozen_layers(largest_run);
  EXPECT_EQ(frozen_smallest.size(), (ranked_count + 1) / 2);
  // The two rules freeze the two halves of the ranking: disjoint, together every ranked layer.
  std::set<std::string> both = frozen_smallest;
  both.insert(frozen_largest.begin(), frozen_largest.end());
  EXPECT_EQ(both.size(), frozen_smallest.size() + frozen_largest.size());
  EXPECT_EQ(both.size(), ranked_count);
  // The smallest rule freezes the ranked layers of largest discrepancy.
  double min_frozen = 1e300, max_trained = 0;
  for (const auto& row : smallest_run.layers) {
    if (!row.ranked) continue;
    if (row.frozen) min_frozen = std::min(min_frozen, row.discrepancy);
    if (!row.frozen) max_trained = std::max(max_trained, row.discrepancy);
  }
  EXPECT_GE(min_frozen, max_trained);
  EXPECT_GT(smallest_run.trainable_parameters, 0);
  EXPECT_LT(smallest_run.trainable_parameters, qat_run.trainable_parameters);

  // `ptqat results ls` lists every stage with its key and headline metrics.
  const testing::CliRun listing = testing::ptqat("results ls " + dir_->file("run/results.h5"));
  ASSERT_EQ(listing.exit_code, 0) << listing.output;
  for (const std::string& key : {calibration.key, qat_run.key, smallest_run.key}) {
    EXPECT_NE(listing.output.find(key), std::string::npos) << listing.output;
  }
  EXPECT_NE(listing.output.find(fmt::format("{:.4f}", qat_run.metrics.at("NDS"))),
            std::string::npos)
      << listing.output;
  // --json: one object per line and stage, with what scripts read.
  const testing::CliRun json =
      testing::ptqat("results ls --json " + dir_->file("run/results.h5"), false);
  ASSERT_EQ(json.exit_code, 0) << json.output;
  std::istringstream json_lines(json.output);
  std::map<std::string, nlohmann::json> by_key;
  for (std::string line; std::getline(json_lines, line);) {
    const nlohmann::json parsed = nlohmann::json::parse(line);
    by_key[parsed.at("key").get<std::string>()] = parsed;
  }
  ASSERT_EQ(by_key.count(qat_run.key), 1u) << json.output;
  const nlohmann::json& qat_line = by_key.at(qat_run.key);
  EXPECT_EQ(qat_line.at("method"), "qat");
  EXPECT_EQ(qat_line.at("metrics").at("NDS").get<double>(), qat_run.metrics.at("NDS"));
  EXPECT_EQ(qat_line.at("wall_time_s").get<double>(), qat_run.wall_time_s);
  EXPECT_EQ(qat_line.at("train_steps").get<size_t>(), qat_run.history.at("loss").steps.size());
  EXPECT_GT(qat_line.at("train_steps").get<size_t>(), 0u);
  EXPECT_EQ(by_key.at(calibration.key).at("train_steps"), 0);
  const testing::CliRun missing = testing::ptqat("results ls " + dir_->file("none.h5"));
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("none.h5"), std::string::npos) << missing.output;

  // Again: every stage is recorded, nothing runs.
  const testing::CliRun again = quantize("--method ptqat --rule smallest");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output.find("finetune epoch"), std::string::npos) << again.output;
}

TEST_F(QuantizePipeline, EvalRebuildsEachStagesModelAndReproducesItsRecord) {
  ASSERT_EQ(quantize("--method ptqat").exit_code, 0);
  const RunConfig ptqat_config = config({"quant.method=ptqat"});
  const StageKeys keys = stage_keys(ptqat_config);
  for (const std::string& key : {keys.float_train, keys.calibrate, keys.fine_tune}) {
    const std::string checkpoint = stage_paths(ptqat_config, key).checkpoint;
    const std::string metrics_path = dir_->file(key + ".metrics.json");
    const std::string submission_path = dir_->file(key + ".submission.json");
    // The config comes from the checkpoint; only the thread count is set.
    const testing::CliRun eval =
        testing::ptqat("eval --checkpoint " + checkpoint + " --metrics-json " + metrics_path +
                       " --export-json " + submission_path + " --set runtime.threads=1");
    ASSERT_EQ(eval.exit_code, 0) << eval.output;
    EXPECT_NE(eval.output.find("NDS"), std::string::npos) << eval.output;

    std::ifstream metrics_file(metrics_path);
    const nlohmann::json metrics = nlohmann::json::parse(metrics_file);
    for (const char* name : {"mAP", "NDS", "mATE", "mASE", "mAOE", "mAVE", "mAAE"}) {
      EXPECT_TRUE(metrics.contains(name)) << name;
    }
    EXPECT_EQ(metrics.at("per_class_AP").size(), 10u);
    // Same model, same data: the recorded metrics of the stage, to rounding.
    const results::RunRecord stage = record(key);
    EXPECT_NEAR(metrics.at("NDS").get<double>(), stage.metrics.at("NDS"), 1e-9) << stage.stage;
    EXPECT_NEAR(metrics.at("mAP").get<double>(), stage.metrics.at("mAP"), 1e-9) << stage.stage;
    std::ifstream submission_file(submission_path);
    const nlohmann::json submission = nlohmann::json::parse(submission_file);
    EXPECT_TRUE(submission.at("meta").at("use_lidar").get<bool>());
    EXPECT_FALSE(submission.at("results").empty());
  }
  // Each evaluation is recorded as a child of its checkpoint's stage.
  std::set<std::string> evaluated;
  for (const results::RunRecord& run : results::read_results(dir_->file("run/results.h5"))) {
    if (run.stage == "evaluate") evaluated.insert(run.parent_key);
  }
  EXPECT_TRUE(evaluated.count(keys.float_train) && evaluated.count(keys.calibrate) &&
              evaluated.count(keys.fine_tune));
}

TEST_F(QuantizePipeline, AFloatModelRecordedAgainMakesItsCalibrationAndFineTuneRunAgain) {
  // A forced retrain (or an import over the model) left the calibrations and fine-tunes made
  // from the old weights "recorded", and every later run reused them.
  ASSERT_EQ(quantize("--method qat").exit_code, 0);
  const std::string copy = dir_->file("retrained");
  std::filesystem::copy(dir_->file("run"), copy, std::filesystem::copy_options::recursive);
  const std::string arguments = "--config " + kConfig +
                                " --set data.dataroot=" + dir_->file("data") +
                                " --set output.dir=" + copy + " --set runtime.threads=1";
  const testing::CliRun retrain = testing::ptqat("train " + arguments + " --force");
  ASSERT_EQ(retrain.exit_code, 0) << retrain.output;
  const testing::CliRun again = testing::ptqat("quantize " + arguments + " --method qat");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const StageKeys keys = stage_keys(config({"quant.method=qat"}));
  EXPECT_NE(again.output.find("calibration " + keys.calibrate + ": recorded; made from an earlier"),
            std::string::npos)
      << again.output;
  EXPECT_NE(again.output.find("finetune epoch"), std::string::npos) << again.output;

  const results::ResultsStore store(copy);
  for (const std::string& key : {keys.float_train, keys.calibrate, keys.fine_tune}) {
    EXPECT_EQ(store.superseded(key).size(), 1u) << key;
    EXPECT_TRUE(store.is_current(key)) << key;
  }
  const results::RunRecord float_run = store.read(keys.float_train);
  const results::RunRecord calibration = store.read(keys.calibrate);
  const results::RunRecord fine_tune = store.read(keys.fine_tune);
  EXPECT_EQ(float_run.content_hash,
            core::file_content_hash(
                stage_paths(config({"output.dir=" + copy}), keys.float_train).checkpoint));
  EXPECT_EQ(calibration.parent_content_hash, float_run.content_hash);
  EXPECT_EQ(fine_tune.parent_content_hash, calibration.content_hash);
  EXPECT_FALSE(calibration.content_hash.empty());

  const testing::CliRun third = testing::ptqat("quantize " + arguments + " --method qat");
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_EQ(third.output.find("finetune epoch"), std::string::npos) << third.output;
}

TEST_F(QuantizePipeline, EvalRefusesACheckpointWithAForeignStageKeyOrNonFiniteWeights) {
  // A copy with NaN weights was evaluated with exit 0 (NDS 0.0000) and recorded.
  const RunConfig float_config = config({});
  const std::string checkpoint =
      stage_paths(float_config, stage_keys(float_config).float_train).checkpoint;
  const CheckpointModel loaded = load_checkpoint_model(checkpoint, "", {});
  TrainingState state = read_checkpoint_state(checkpoint);

  TrainingState renamed = state;
  renamed.metadata[metadata::kStageKey] = "0123456789abcdef0123456789abcdef";
  const std::string foreign = dir_->file("foreign.pt");
  save_model_checkpoint(foreign, *loaded.model, renamed);
  const testing::CliRun foreign_eval = testing::ptqat("eval --checkpoint " + foreign);
  EXPECT_EQ(foreign_eval.exit_code, 1) << foreign_eval.output;
  EXPECT_NE(foreign_eval.output.find(foreign + ": the checkpoint names stage 0123"),
            std::string::npos)
      << foreign_eval.output;

  {
    torch::NoGradGuard no_grad;
    loaded.model->parameters().front().view(-1)[0] = std::nan("");
  }
  const std::string broken = dir_->file("nan.pt");
  save_model_checkpoint(broken, *loaded.model, state);
  const testing::CliRun nan_eval = testing::ptqat("eval --checkpoint " + broken);
  EXPECT_EQ(nan_eval.exit_code, 1) << nan_eval.output;
  EXPECT_NE(nan_eval.output.find(broken + ": weight '"), std::string::npos) << nan_eval.output;
  EXPECT_NE(nan_eval.output.find("NaN or infinite"), std::string::npos) << nan_eval.output;
}

TEST_F(QuantizePipeline, AFineTuneSeedSharesTheFloatModelAndCalibrationAndChangesTheFineTune) {
  ASSERT_EQ(quantize("--method qat").exit_code, 0);
  const testing::CliRun seeded = quantize("--method qat --set quant.seed=1");
  ASSERT_EQ(seeded.exit_code, 0) << seeded.output;
  EXPECT_NE(seeded.output.find("recorded, reusing"), std::string::npos) << seeded.output;
  EXPECT_NE(seeded.output.find("finetune epoch"), std::string::npos) << seeded.output;
  const results::RunRecord zero = record(stage_keys(config({"quant.method=qat"})).fine_tune);
  const results::RunRecord one =
      record(stage_keys(config({"quant.method=qat", "quant.seed=1"})).fine_tune);
  EXPECT_EQ(one.parent_key, zero.parent_key);  // one calibration, one float model
  EXPECT_EQ(one.labels.quant_seed, 1);
  EXPECT_EQ(zero.labels.quant_seed, 0);
  EXPECT_EQ(one.labels.float_seed, zero.labels.float_seed);
  EXPECT_EQ(one.labels.fine_tune_group, zero.labels.fine_tune_group);  // one report row
  // Another data order: the loss curves differ.
  EXPECT_NE(one.history.at("loss").values, zero.history.at("loss").values);
}

TEST_F(QuantizePipeline, AFullDiskIsOneLineAndLosesNoRecord) {
  // Under a file-size limit (a full disk): ptqat's writes fail with EFBIG as with ENOSPC.
  ASSERT_EQ(quantize("--method ptq").exit_code, 0);
  const std::string results = dir_->file("run/results.h5");
  std::map<std::string, std::string> before;
  for (const auto& entry : std::filesystem::directory_iterator(dir_->file("run/records"))) {
    before[entry.path().string()] = ptqat::testing::read_bytes(entry.path());
  }
  const std::string view = ptqat::testing::read_bytes(results);
  const auto with_full_disk = [](const std::string& arguments) {
    return testing::run_command("bash -c \"trap '' XFSZ; ulimit -f 16; exec " +
                                std::string(PTQAT_EXECUTABLE) + " " + arguments + "\"");
  };

  // A merge segfaulted in HDF5's H5Ocopy (139); a record or checkpoint write aborted (134).
  const std::string merged = dir_->file("merged.h5");
  const testing::CliRun merge = with_full_disk("results merge " + results + " -o " + merged);
  EXPECT_EQ(merge.exit_code, 1) << merge.output;
  EXPECT_EQ(merge.output, "error: " + merged + ": cannot write: File too large\n");
  const testing::CliRun calibrate =
      with_full_disk("quantize " + common_arguments() + " --method ptq --force");
  EXPECT_EQ(calibrate.exit_code, 1) << calibrate.output;
  EXPECT_NE(calibrate.output.find("error: "), std::string::npos) << calibrate.output;
  EXPECT_NE(calibrate.output.find("File too large"), std::string::npos) << calibrate.output;

  EXPECT_EQ(ptqat::testing::read_bytes(results), view);
  for (const auto& [path, bytes] : before) EXPECT_EQ(ptqat::testing::read_bytes(path), bytes);
  for (const std::string& folder : {dir_->path().string(), dir_->file("run"),
                                    dir_->file("run/records"), dir_->file("run/checkpoints")}) {
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
    }
  }
}

TEST_F(QuantizePipeline, WithoutAFloatCheckpointQuantizeNamesItAndTrain) {
  const testing::CliRun run = quantize("--method ptq --set seed=7");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("no float checkpoint"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("ptqat train"), std::string::npos) << run.output;
}

TEST(QuantizeCli, EvalNeedsACheckpointOrAConfig) {
  const testing::CliRun run = testing::ptqat("eval");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("--checkpoint"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace ptqat::runner
