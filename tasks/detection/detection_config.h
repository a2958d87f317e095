#pragma once
// The configuration of the official nuScenes detection metric (the devkit's
// configs/detection_cvpr_2019.json). Every default is the official value; other values give
// numbers that are not nuScenes numbers, so they exist for tests and ablations only.

#include <array>
#include <nlohmann/json.hpp>
#include <vector>

#include "datasets/nuscenes/categories.h"

namespace ptqat::tasks::detection {

/// detection_cvpr_2019.json as a typed struct.
struct DetectionEvalConfig {
  /// Evaluation range per class (kDetectionNames order), metres; boxes with ego_dist >= range
  /// are dropped. Official: 50 for vehicles, 40 for pedestrian/motorcycle/bicycle, 30 for
  /// traffic_cone/barrier.
  std::array<double, datasets::kNumDetectionClasses> class_range = official_class_range();
  /// Centre-distance matching thresholds (m), each > 0; AP is averaged over them.
  std::vector<double> dist_ths = {0.5, 1.0, 2.0, 4.0};
  /// The threshold whose matches give the TP errors; must be one of dist_ths.
  double dist_th_tp = 2.0;
  /// Recall below which precision and TP errors are ignored, in [0, 1].
  double min_recall = 0.1;
  /// Precision subtracted (and clipped at 0) before averaging, in [0, 1).
  double min_precision = 0.1;
  /// Most boxes a sample may hold in a submission (more is an error; nothing is truncated).
  int max_boxes_per_sample = 500;
  /// Weight of mAP against the five TP scores in NDS.
  double mean_ap_weight = 5.0;

  static std::array<double, datasets::kNumDetectionClasses> official_class_range();

  /// Throws ConfigError naming the field when a value is out of range.
  void validate() const;
  /// Position of dist_th_tp in dist_ths (validate() guarantees it exists).
  size_t tp_threshold_index() const;
  /// The devkit's DetectionConfig.serialize() ("cfg" in metrics_summary.json).
  nlohmann::ordered_json to_json() const;
};

}  // namespace ptqat::tasks::detection
