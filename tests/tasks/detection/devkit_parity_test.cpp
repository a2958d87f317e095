// Parity with the official nuScenes devkit on tests/data/devkit-golden (see its PROVENANCE.md):
// the devkit's own metric outputs for three prediction files, and the ground-truth boxes it
// keeps after filtering. The golden dataset holds exactly the two scenes of the official split
// mini_val, so mini_val, a custom split listing both scenes, and all samples give the same
// sample set the devkit evaluated ("every sample").

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datasets/nuscenes/categories.h"
#include "tasks/detection/detection_eval.h"
#include "tasks/detection/submission_json.h"
#include "tests/support/temp_dir.h"

namespace ptqat::tasks::detection {
namespace {

const std::string kRoot = PTQAT_TEST_DATA_DIR "/devkit-golden";
constexpr double kTolerance = 1e-6;

nlohmann::json read_json(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  return nlohmann::json::parse(file);
}

/// |ours - devkit|, treating null as NaN (equal when both are NaN).
double difference(double ours, const nlohmann::json& devkit) {
  if (devkit.is_null()) return std::isnan(ours) ? 0.0 : INFINITY;
  const double expected = devkit.get<double>();
  return std::isnan(ours) ? INFINITY : std::abs(ours - expected);
}

/// Compares every number of the devkit's output; returns the largest difference per quantity.
std::map<std::string, double> compare(const DetectionMetrics& metrics, const nlohmann::json& devkit,
                                      const std::string& name) {
  std::map<std::string, double> worst;
  const auto check = [&](const std::string& quantity, double ours, const nlohmann::json& theirs) {
    const double d = difference(ours, theirs);
    EXPECT_LE(d, kTolerance) << name << ": " << quantity << ": ours " << ours << ", devkit "
                             << theirs;
    const std::string key = quantity.substr(0, quantity.find('/'));
    worst[key] = std::max(worst[key], d);
  };
  check("mAP", metrics.mean_ap, devkit["mAP"]);
  check("NDS", metrics.nd_score, devkit["NDS"]);
  for (int m = 0; m < kNumTpMetrics; ++m) {
    const std::string metric(kTpMetricNames[m]);
    check(std::string(kTpMetricShortNames[m]), metrics.tp_errors[m],
          devkit[std::string(kTpMetricShortNames[m])]);
    check("tp_scores/" + metric, metrics.tp_scores[m], devkit["tp_scores"][metric]);
  }
  for (size_t c = 0; c < kNumClasses; ++c) {
    const std::string cls(datasets::kDetectionNames[c]);
    const auto& per_class = devkit["per_class"][cls];
    check("class_AP/" + cls, metrics.mean_dist_aps[c], per_class["AP"]);
    for (size_t k = 0; k < metrics.config.dist_ths.size(); ++k) {
      const std::string threshold = python_float_key(metrics.config.dist_ths[k]);
      check("class_AP_by_dist/" + cls + "@" + threshold, metrics.label_aps[c][k],
            per_class["AP_by_dist"][threshold]);
    }
    for (int m = 0; m < kNumTpMetrics; ++m) {
      const std::string metric(kTpMetricNames[m]);
      check("class_" + metric + "/" + cls, metrics.label_tp_errors[c][static_cast<size_t>(m)],
            per_class[metric]);
    }
  }
  EXPECT_EQ(metrics.num_samples, devkit["num_samples"].get<size_t>()) << name;
  EXPECT_EQ(metrics.gt_counts.after_bike_rack, devkit["num_gt_boxes_after_filter"].get<size_t>())
      << name;
  EXPECT_EQ(metrics.pred_counts.after_bike_rack,
            devkit["num_pred_boxes_after_filter"].get<size_t>())
      << name;
  return worst;
}

class DevkitParity : public ::testing::TestWithParam<std::string> {};

TEST_P(DevkitParity, MatchesTheDevkitOnMiniVal) {
  const datasets::NuScenes index(kRoot, "v1.0-mini");
  const std::string name = GetParam();
  const DetectionMetrics metrics =
      evaluate_submission(index, "mini_val", kRoot + "/results_" + name + ".json");
  const auto worst = compare(metrics, read_json(kRoot + "/devkit_metrics_" + name + ".json"), name);
  for (const auto& [quantity, d] : worst) {
    std::cout << "[parity] " << name << " " << quantity << " max |diff| = " << d << "\n";
  }
}

TEST_P(DevkitParity, CustomSplitOverEverySampleGivesTheSameNumbers) {
  // The devkit's custom-split path: copy the tables and add a splits.json listing both scenes.
  testing::TempDir dir;
  const auto version = dir.path() / "v1.0-mini";
  std::filesystem::create_directories(version);
  for (const auto& entry : std::filesystem::directory_iterator(kRoot + "/v1.0-mini")) {
    std::filesystem::copy_file(entry.path(), version / entry.path().filename());
  }
  testing::write_text(version / "splits.json", R"({"ALL": ["scene-0103", "scene-0916"]})");
  const datasets::NuScenes index(dir.path().string(), "v1.0-mini");
  const std::string name = GetParam();
  const std::string results = kRoot + "/results_" + name + ".json";
  const auto devkit = read_json(kRoot + "/devkit_metrics_" + name + ".json");
  compare(evaluate_submission(index, "ALL", results), devkit, name + " (custom split)");
  Submission submission = read_submission(results);
  compare(evaluate_detection(index, all_samples(index), std::move(submission.results)), devkit,
          name + " (all samples)");
}

INSTANTIATE_TEST_SUITE_P(GoldenResults, DevkitParity,
                         ::testing::Values("perfect", "shift075", "noisy"));

TEST(DevkitParity, KeptGroundTruthBoxesEqualTheDevkits) {
  const datasets::NuScenes index(kRoot, "v1.0-mini");
  const auto expected = read_json(kRoot + "/expected.json");
  DetectionResults gt = load_gt(index, eval_sample_set(index, "mini_val"));
  add_center_dist(index, gt);
  const FilterCounts counts = filter_eval_boxes(index, gt, DetectionEvalConfig{});
  // PROVENANCE.md: 158 kept; 9 dropped for range, 6 for zero points, 6 for the bike rack.
  EXPECT_EQ(counts.after_bike_rack, 158u);
  EXPECT_EQ(counts.total - counts.after_range, 9u);
  EXPECT_EQ(counts.after_range - counts.after_points, 6u);
  EXPECT_EQ(counts.after_points - counts.after_bike_rack, 6u);

  std::map<std::string, std::vector<std::string>> kept;
  for (const auto& [sample, boxes] : gt.entries()) {
    for (const DetectionBox& box : boxes) {
      kept[std::string(box.detection_name())].push_back(
          index.tables().sample_annotation[box.annotation].token.hex());
    }
  }
  for (const auto& [cls, tokens] : expected["gt_kept"].items()) {
    EXPECT_EQ(kept[cls], tokens.get<std::vector<std::string>>()) << cls;
    EXPECT_EQ(kept[cls].size(), expected["gt_kept_per_class"][cls].get<size_t>()) << cls;
  }
}

}  // namespace
}  // namespace ptqat::tasks::detection
