#pragma once
// Matching and the per-class curves of the nuScenes detection metric: the devkit's
// eval/detection/algo.py (accumulate, calc_ap, calc_tp) and the TP error functions of
// eval/common/utils.py, in float64 (docs/nuscenes.md section 6, steps 4 to 6).

#include <array>
#include <string_view>
#include <vector>

#include "tasks/detection/detection_box.h"

namespace ptqat::tasks::detection {

/// The five true-positive errors, in the devkit's TP_METRICS order (the order of every output).
enum TpMetric : int { kTransErr = 0, kScaleErr, kOrientErr, kVelErr, kAttrErr };
inline constexpr int kNumTpMetrics = 5;
inline constexpr std::array<std::string_view, kNumTpMetrics> kTpMetricNames = {
    "trans_err", "scale_err", "orient_err", "vel_err", "attr_err"};
/// Short names of the class means, as the devkit prints them (mATE, ...).
inline constexpr std::array<std::string_view, kNumTpMetrics> kTpMetricShortNames = {
    "mATE", "mASE", "mAOE", "mAVE", "mAAE"};

/// Points of the recall grid: recall i / 100 for i = 0..100.
inline constexpr int kNumRecallBins = 101;

/// The devkit's DetectionMetricData: one class at one distance threshold, sampled on the recall
/// grid (numpy.linspace(0, 1, 101)).
struct DetectionMetricData {
  std::vector<double> precision;   ///< precision at each recall bin (0 past the max recall)
  std::vector<double> confidence;  ///< score at each recall bin (0 past the max recall)
  /// Running-mean TP errors at each recall bin, kTpMetricNames order.
  std::array<std::vector<double>, kNumTpMetrics> tp_errors;

  /// The devkit's no_predictions(): precision and confidence 0, every error 1.
  static DetectionMetricData no_predictions();
  /// Last bin whose confidence is not 0 (0 when there is none): the max recall reached.
  int max_recall_index() const;
};

/// algo.accumulate: greedy matching of the class's predictions, by score (ties: the later
/// prediction first), to the nearest unmatched ground truth of the same sample within
/// `dist_th` metres (centre distance in xy, strict `<`), then precision / confidence / TP-error
/// curves on the recall grid. Boxes of other classes are ignored. Every sample holding a
/// prediction must have an entry in `gt` (DataError otherwise). NO_PRED when the class has no
/// ground truth or no match.
DetectionMetricData accumulate(const DetectionResults& gt, const DetectionResults& predictions,
                               int detection_class, double dist_th);

/// algo.calc_ap: mean of max(precision - min_precision, 0) over the bins above min_recall,
/// divided by (1 - min_precision). No precision envelope.
double calc_ap(const DetectionMetricData& data, double min_recall, double min_precision);

/// algo.calc_tp: mean error over the bins from just above min_recall to the max recall
/// (inclusive); 1 when the max recall is not above min_recall.
double calc_tp(const DetectionMetricData& data, double min_recall, TpMetric metric);

/// calc_tp with evaluate.py's exceptions: NaN for traffic_cone orientation, velocity and
/// attribute, and for barrier velocity and attribute.
double class_tp_error(int detection_class, TpMetric metric, const DetectionMetricData& data,
                      double min_recall);

/// TP errors of one matched pair (eval/common/utils.py): xy centre distance (m).
double center_distance(const DetectionBox& gt, const DetectionBox& prediction);
/// L2 norm of the velocity difference (m/s); NaN when either velocity has a NaN.
double velocity_l2(const DetectionBox& gt, const DetectionBox& prediction);
/// IoU of the two boxes aligned at the same centre and orientation; sizes must be > 0
/// (DataError naming the sample otherwise).
double scale_iou(const DetectionBox& gt, const DetectionBox& prediction);
/// |angle_diff(yaw_gt, yaw_pred, period)| in radians; period pi for barriers, 2 pi otherwise.
double yaw_diff(const DetectionBox& gt, const DetectionBox& prediction, double period);
/// 1 - attribute accuracy; NaN when the ground truth has no attribute.
double attr_error(const DetectionBox& gt, const DetectionBox& prediction);

}  // namespace ptqat::tasks::detection
