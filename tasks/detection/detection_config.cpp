#include "tasks/detection/detection_config.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ptqat::tasks::detection {

std::array<double, datasets::kNumDetectionClasses> DetectionEvalConfig::official_class_range() {
  std::array<double, datasets::kNumDetectionClasses> range{};
  for (int c = 0; c < datasets::kNumDetectionClasses; ++c) {
    range[static_cast<size_t>(c)] = datasets::detection_class_range(c);
  }
  return range;
}

void DetectionEvalConfig::validate() const {
  for (size_t c = 0; c < class_range.size(); ++c) {
    PTQAT_CHECK(class_range[c] > 0, ConfigError,
                "detection eval: class_range.{}: expected a range > 0 m, got {}",
                datasets::kDetectionNames[c], class_range[c]);
  }
  PTQAT_CHECK(!dist_ths.empty(), ConfigError,
              "detection eval: dist_ths: expected at least one threshold");
  for (const double threshold : dist_ths) {
    PTQAT_CHECK(threshold > 0, ConfigError,
                "detection eval: dist_ths: expected thresholds > 0 m, got {}", threshold);
  }
  PTQAT_CHECK(std::find(dist_ths.begin(), dist_ths.end(), dist_th_tp) != dist_ths.end(),
              ConfigError, "detection eval: dist_th_tp: expected one of dist_ths, got {}",
              dist_th_tp);
  PTQAT_CHECK(min_recall >= 0 && min_recall <= 1, ConfigError,
              "detection eval: min_recall: expected a value in [0, 1], got {}", min_recall);
  PTQAT_CHECK(min_precision >= 0 && min_precision < 1, ConfigError,
              "detection eval: min_precision: expected a value in [0, 1), got {}", min_precision);
  PTQAT_CHECK(max_boxes_per_sample > 0, ConfigError,
              "detection eval: max_boxes_per_sample: expected > 0, got {}", max_boxes_per_sample);
  PTQAT_CHECK(mean_ap_weight >= 0 && std::isfinite(mean_ap_weight), ConfigError,
              "detection eval: mean_ap_weight: expected a finite value >= 0, got {}",
              mean_ap_weight);
}

size_t DetectionEvalConfig::tp_threshold_index() const {
  const auto it = std::find(dist_ths.begin(), dist_ths.end(), dist_th_tp);
  PTQAT_ASSERT(it != dist_ths.end(), "dist_th_tp {} is not in dist_ths", dist_th_tp);
  return static_cast<size_t>(it - dist_ths.begin());
}

nlohmann::ordered_json DetectionEvalConfig::to_json() const {
  nlohmann::ordered_json range = nlohmann::ordered_json::object();
  for (size_t c = 0; c < class_range.size(); ++c) {
    range[std::string(datasets::kDetectionNames[c])] = class_range[c];
  }
  return {{"class_range", range},
          {"dist_fcn", "center_distance"},
          {"dist_ths", dist_ths},
          {"dist_th_tp", dist_th_tp},
          {"min_recall", min_recall},
          {"min_precision", min_precision},
          {"max_boxes_per_sample", max_boxes_per_sample},
          {"mean_ap_weight", mean_ap_weight}};
}

}  // namespace ptqat::tasks::detection
