#include "tasks/detection/detection_metrics.h"

#include <fmt/format.h>

#include <cmath>

#include "tasks/detection/numpy_semantics.h"

namespace ptqat::tasks::detection {

namespace {

nlohmann::ordered_json number_or_null(double value) {
  if (std::isnan(value)) return nullptr;
  return value;
}

}  // namespace

void DetectionMetrics::aggregate() {
  // data_classes.py DetectionMetrics: mean_dist_aps, mean_ap, tp_errors, tp_scores, nd_score.
  for (size_t c = 0; c < kNumClasses; ++c) mean_dist_aps[c] = numpy_mean(label_aps[c]);
  mean_ap = numpy_mean(mean_dist_aps.data(), mean_dist_aps.size());
  for (size_t m = 0; m < kNumTpMetrics; ++m) {
    std::vector<double> class_errors(kNumClasses);
    for (size_t c = 0; c < kNumClasses; ++c) class_errors[c] = label_tp_errors[c][m];
    tp_errors[m] = numpy_nanmean(class_errors);
    // Python's max(0.0, score) keeps 0.0 when the score is NaN.
    const double score = 1.0 - tp_errors[m];
    tp_scores[m] = score > 0.0 ? score : 0.0;
  }
  const double total = config.mean_ap_weight * mean_ap + numpy_sum(tp_scores.data(), kNumTpMetrics);
  nd_score = total / (config.mean_ap_weight + static_cast<double>(kNumTpMetrics));
}

std::string python_float_key(double value) {
  std::string text = fmt::format("{}", value);
  if (std::isfinite(value) && text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

nlohmann::ordered_json DetectionMetrics::to_json() const {
  using Json = nlohmann::ordered_json;
  Json label_aps_json = Json::object(), mean_dist_aps_json = Json::object();
  Json label_tp_json = Json::object();
  for (size_t c = 0; c < kNumClasses; ++c) {
    const std::string name(datasets::kDetectionNames[c]);
    Json by_threshold = Json::object();
    for (size_t k = 0; k < config.dist_ths.size() && k < label_aps[c].size(); ++k) {
      by_threshold[python_float_key(config.dist_ths[k])] = number_or_null(label_aps[c][k]);
    }
    label_aps_json[name] = by_threshold;
    mean_dist_aps_json[name] = number_or_null(mean_dist_aps[c]);
    Json errors = Json::object();
    for (size_t m = 0; m < kNumTpMetrics; ++m) {
      errors[std::string(kTpMetricNames[m])] = number_or_null(label_tp_errors[c][m]);
    }
    label_tp_json[name] = errors;
  }
  Json tp_errors_json = Json::object(), tp_scores_json = Json::object();
  for (size_t m = 0; m < kNumTpMetrics; ++m) {
    tp_errors_json[std::string(kTpMetricNames[m])] = number_or_null(tp_errors[m]);
    tp_scores_json[std::string(kTpMetricNames[m])] = number_or_null(tp_scores[m]);
  }
  Json out = {{"label_aps", label_aps_json},
              {"mean_dist_aps", mean_dist_aps_json},
              {"mean_ap", number_or_null(mean_ap)},
              {"label_tp_errors", label_tp_json},
              {"tp_errors", tp_errors_json},
              {"tp_scores", tp_scores_json},
              {"nd_score", number_or_null(nd_score)},
              {"eval_time", eval_seconds},
              {"cfg", config.to_json()}};
  if (meta) out["meta"] = meta->to_json();
  return out;
}

}  // namespace ptqat::tasks::detection
