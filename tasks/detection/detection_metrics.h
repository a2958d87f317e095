#pragma once
// The results of the nuScenes detection metric: per-class AP and TP errors, and their
// aggregation to mAP, the mean TP errors and NDS (the devkit's DetectionMetrics; docs/nuscenes.md
// section 6, step 7).

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "datasets/nuscenes/categories.h"
#include "tasks/detection/detection_accumulate.h"
#include "tasks/detection/detection_config.h"
#include "tasks/detection/detection_gt.h"
#include "tasks/detection/submission_json.h"

namespace ptqat::tasks::detection {

inline constexpr int kNumClasses = datasets::kNumDetectionClasses;

/// Everything one evaluation produces. Classes in datasets::kDetectionNames order, TP metrics in
/// kTpMetricNames order, thresholds in config.dist_ths order. Plain data.
struct DetectionMetrics {
  DetectionEvalConfig config;
  std::string split;                   ///< the evaluated split (or sample set) name
  size_t num_samples = 0;              ///< samples evaluated
  FilterCounts gt_counts;              ///< ground-truth boxes through the filters
  FilterCounts pred_counts;            ///< predicted boxes through the filters
  std::optional<SubmissionMeta> meta;  ///< the submission's meta, when there was one

  /// label_aps[c][k]: AP of class c at distance threshold config.dist_ths[k].
  std::array<std::vector<double>, kNumClasses> label_aps;
  /// label_tp_errors[c][m]: TP error m of class c at config.dist_th_tp; NaN where undefined
  /// (traffic_cone orientation/velocity/attribute, barrier velocity/attribute).
  std::array<std::array<double, kNumTpMetrics>, kNumClasses> label_tp_errors{};

  // Aggregates, filled by aggregate():
  std::array<double, kNumClasses> mean_dist_aps{};  ///< AP per class, mean over thresholds
  double mean_ap = 0;                               ///< mAP: mean of mean_dist_aps
  std::array<double, kNumTpMetrics> tp_errors{};    ///< mATE ... mAAE: NaN-mean over classes
  std::array<double, kNumTpMetrics> tp_scores{};    ///< max(0, 1 - tp_errors[m])
  double nd_score = 0;      ///< NDS = (w mAP + sum of tp_scores) / (w + 5), w = mean_ap_weight
  double eval_seconds = 0;  ///< time spent matching and computing (the devkit's eval_time)

  /// Computes the aggregates from label_aps and label_tp_errors, with numpy's means.
  void aggregate();

  /// The devkit's metrics_summary.json: label_aps, mean_dist_aps, mean_ap, label_tp_errors,
  /// tp_errors, tp_scores, nd_score, eval_time, cfg, and meta when known. Thresholds are keyed
  /// as Python prints floats ("0.5", "1.0", ...). NaN values are written as null (the devkit's
  /// json.dump writes the non-standard NaN).
  nlohmann::ordered_json to_json() const;
};

/// A float as Python's repr prints it for the thresholds used as JSON keys ("1.0", "0.5").
std::string python_float_key(double value);

}  // namespace ptqat::tasks::detection
