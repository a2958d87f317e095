#include "tasks/detection/detection_accumulate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "datasets/geometry.h"
#include "tasks/detection/numpy_semantics.h"

namespace ptqat::tasks::detection {

namespace {

const int kTrafficCone = detection_class_index("traffic_cone");
const int kBarrier = detection_class_index("barrier");

/// One prediction of the class being accumulated and the ground-truth entry of its sample.
struct Candidate {
  const DetectionBox* box;
  size_t gt_entry;
};

/// round(100 * min_recall) + 1: the first recall bin above min_recall. Python's round() rounds
/// half to even, as nearbyint does in the default rounding mode.
size_t first_bin_above(double min_recall) {
  return static_cast<size_t>(std::nearbyint(100.0 * min_recall)) + 1;
}

}  // namespace

DetectionMetricData DetectionMetricData::no_predictions() {
  DetectionMetricData data;
  data.precision.assign(kNumRecallBins, 0.0);
  data.confidence.assign(kNumRecallBins, 0.0);
  for (auto& errors : data.tp_errors) errors.assign(kNumRecallBins, 1.0);
  return data;
}

int DetectionMetricData::max_recall_index() const {
  for (size_t i = confidence.size(); i-- > 0;) {
    if (confidence[i] != 0) return static_cast<int>(i);
  }
  return 0;
}

DetectionMetricData accumulate(const DetectionResults& gt, const DetectionResults& predictions,
                               int detection_class, double dist_th) {
  // Ground truth of the class per sample, by position in the sample's list (the devkit's
  // gt_idx), and the matches taken so far.
  const auto& gt_entries = gt.entries();
  std::vector<std::vector<size_t>> class_gt(gt_entries.size());
  std::vector<std::vector<char>> taken(gt_entries.size());
  size_t npos = 0;
  for (size_t s = 0; s < gt_entries.size(); ++s) {
    const auto& boxes = gt_entries[s].second;
    taken[s].assign(boxes.size(), 0);
    for (size_t g = 0; g < boxes.size(); ++g) {
      if (boxes[g].detection_class == detection_class) class_gt[s].push_back(g);
    }
    npos += class_gt[s].size();
  }
  if (npos == 0) return DetectionMetricData::no_predictions();

  std::vector<Candidate> candidates;
  for (const auto& [sample, boxes] : predictions.entries()) {
    const int64_t entry = gt.position(sample);
    for (const DetectionBox& box : boxes) {
      if (box.detection_class != detection_class) continue;
      PTQAT_CHECK(entry >= 0, DataError,
                  "detection eval: sample {} has predictions but no ground-truth entry",
                  sample.hex());
      PTQAT_CHECK(!std::isnan(box.score), DataError,
                  "detection eval: sample {}: a {} prediction has a NaN detection_score",
                  sample.hex(), box.detection_name());
      candidates.push_back({&box, static_cast<size_t>(entry)});
    }
  }

  // sorted((score, index))[::-1]: score descending, equal scores by descending index.
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double score_a = candidates[a].box->score, score_b = candidates[b].box->score;
    if (score_a != score_b) return score_a > score_b;
    return a > b;
  });

  const double period = detection_class == kBarrier ? M_PI : 2 * M_PI;
  std::vector<double> tp_cumsum, fp_cumsum, confidences, match_confidences;
  std::array<std::vector<double>, kNumTpMetrics> match_errors;
  double tp_count = 0, fp_count = 0;
  for (const size_t index : order) {
    const Candidate& candidate = candidates[index];
    const DetectionBox& prediction = *candidate.box;
    const auto& sample_gt = gt_entries[candidate.gt_entry].second;
    auto& sample_taken = taken[candidate.gt_entry];

    // The nearest untaken ground truth; the first of equal distances wins (strict <).
    double min_dist = std::numeric_limits<double>::infinity();
    size_t match = 0;
    for (const size_t g : class_gt[candidate.gt_entry]) {
      if (sample_taken[g]) continue;
      const double distance = center_distance(sample_gt[g], prediction);
      if (distance < min_dist) {
        min_dist = distance;
        match = g;
      }
    }
    if (min_dist < dist_th) {
      sample_taken[match] = 1;
      tp_count += 1;
      const DetectionBox& matched = sample_gt[match];
      match_errors[kTransErr].push_back(center_distance(matched, prediction));
      match_errors[kScaleErr].push_back(1 - scale_iou(matched, prediction));
      // Barrier orientation is only defined up to 180 degrees.
      match_errors[kOrientErr].push_back(yaw_diff(matched, prediction, period));
      match_errors[kVelErr].push_back(velocity_l2(matched, prediction));
      match_errors[kAttrErr].push_back(attr_error(matched, prediction));
      match_confidences.push_back(prediction.score);
    } else {
      fp_count += 1;
    }
    tp_cumsum.push_back(tp_count);
    fp_cumsum.push_back(fp_count);
    confidences.push_back(prediction.score);
  }
  if (match_confidences.empty()) return DetectionMetricData::no_predictions();

  const size_t count = confidences.size();
  std::vector<double> precision(count), recall(count);
  for (size_t i = 0; i < count; ++i) {
    precision[i] = tp_cumsum[i] / (fp_cumsum[i] + tp_cumsum[i]);
    recall[i] = tp_cumsum[i] / static_cast<double>(npos);
  }
  const std::vector<double> grid = unit_linspace(kNumRecallBins);
  DetectionMetricData data;
  data.precision = numpy_interp(grid, recall, precision, std::nullopt, 0.0);
  data.confidence = numpy_interp(grid, recall, confidences, std::nullopt, 0.0);

  // Each error's running mean, looked up by confidence; numpy.interp needs increasing xp, so
  // the devkit reverses everything and reverses the result back.
  const std::vector<double> reversed_confidence(data.confidence.rbegin(), data.confidence.rend());
  const std::vector<double> reversed_match(match_confidences.rbegin(), match_confidences.rend());
  for (int m = 0; m < kNumTpMetrics; ++m) {
    const std::vector<double> mean = cummean_nan(match_errors[m]);
    const std::vector<double> reversed_mean(mean.rbegin(), mean.rend());
    std::vector<double> errors = numpy_interp(reversed_confidence, reversed_match, reversed_mean);
    std::reverse(errors.begin(), errors.end());
    data.tp_errors[m] = std::move(errors);
  }
  return data;
}

double calc_ap(const DetectionMetricData& data, double min_recall, double min_precision) {
  PTQAT_ASSERT(min_precision >= 0 && min_precision < 1, "min_precision {} not in [0, 1)",
               min_precision);
  PTQAT_ASSERT(min_recall >= 0 && min_recall <= 1, "min_recall {} not in [0, 1]", min_recall);
  const size_t first = first_bin_above(min_recall);
  std::vector<double> clipped;
  for (size_t i = first; i < data.precision.size(); ++i) {
    const double value = data.precision[i] - min_precision;
    clipped.push_back(value < 0 ? 0.0 : value);
  }
  return numpy_mean(clipped) / (1.0 - min_precision);
}

double calc_tp(const DetectionMetricData& data, double min_recall, TpMetric metric) {
  const auto first = static_cast<int>(first_bin_above(min_recall));
  const int last = data.max_recall_index();
  if (last < first) return 1.0;
  const auto& errors = data.tp_errors[metric];
  return numpy_mean(errors.data() + first, static_cast<size_t>(last - first + 1));
}

double class_tp_error(int detection_class, TpMetric metric, const DetectionMetricData& data,
                      double min_recall) {
  if (detection_class == kTrafficCone &&
      (metric == kAttrErr || metric == kVelErr || metric == kOrientErr)) {
    return kNaN;
  }
  if (detection_class == kBarrier && (metric == kAttrErr || metric == kVelErr)) return kNaN;
  return calc_tp(data, min_recall, metric);
}

double center_distance(const DetectionBox& gt, const DetectionBox& prediction) {
  // np.linalg.norm(pred[:2] - gt[:2]) = sqrt(x.x).
  const double dx = prediction.translation[0] - gt.translation[0];
  const double dy = prediction.translation[1] - gt.translation[1];
  return std::sqrt(dx * dx + dy * dy);
}

double velocity_l2(const DetectionBox& gt, const DetectionBox& prediction) {
  const double dx = prediction.velocity[0] - gt.velocity[0];
  const double dy = prediction.velocity[1] - gt.velocity[1];
  return std::sqrt(dx * dx + dy * dy);
}

double scale_iou(const DetectionBox& gt, const DetectionBox& prediction) {
  for (const DetectionBox* box : {&gt, &prediction}) {
    PTQAT_CHECK(box->size[0] > 0 && box->size[1] > 0 && box->size[2] > 0, DataError,
                "detection eval: sample {}: a matched {} {} box has size [{}, {}, {}] "
                "(scale IoU needs sizes > 0)",
                box->sample_token.hex(), box->detection_name(),
                box == &gt ? "ground-truth" : "predicted", box->size[0], box->size[1],
                box->size[2]);
  }
  // np.prod multiplies left to right.
  const double intersection = std::min(gt.size[0], prediction.size[0]) *
                              std::min(gt.size[1], prediction.size[1]) *
                              std::min(gt.size[2], prediction.size[2]);
  const double volume_gt = gt.size[0] * gt.size[1] * gt.size[2];
  const double volume_prediction = prediction.size[0] * prediction.size[1] * prediction.size[2];
  const double union_volume = volume_gt + volume_prediction - intersection;
  return intersection / union_volume;
}

double yaw_diff(const DetectionBox& gt, const DetectionBox& prediction, double period) {
  const double yaw_gt = datasets::quaternion_yaw(datasets::to_eigen(gt.rotation));
  const double yaw_prediction = datasets::quaternion_yaw(datasets::to_eigen(prediction.rotation));
  return std::abs(angle_diff(yaw_gt, yaw_prediction, period));
}

double attr_error(const DetectionBox& gt, const DetectionBox& prediction) {
  // About 0.4% of real annotations lack an attribute; their NaN is skipped by cummean_nan.
  if (gt.attribute < 0) return kNaN;
  return gt.attribute == prediction.attribute ? 0.0 : 1.0;
}

}  // namespace ptqat::tasks::detection
