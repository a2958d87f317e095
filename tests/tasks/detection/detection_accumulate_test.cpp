#include "tasks/detection/detection_accumulate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"

namespace ptqat::tasks::detection {
namespace {

const Token kSample{0x1234, 1};
const Token kOtherSample{0x5678, 2};
constexpr double kMinRecall = 0.1, kMinPrecision = 0.1;

DetectionBox box(const std::string& name, double x, double y, double score = -1.0, double yaw = 0.0,
                 const std::string& attribute = "", std::array<double, 2> velocity = {0.0, 0.0},
                 const Token& sample = kSample) {
  DetectionBox b;
  b.sample_token = sample;
  b.translation = {x, y, 1.0};
  b.size = {2.0, 4.0, 1.5};
  b.rotation = {std::cos(yaw / 2), 0, 0, std::sin(yaw / 2)};
  b.velocity = velocity;
  b.detection_class = detection_class_index(name);
  b.score = score;
  b.attribute = attribute.empty() ? -1 : datasets::attribute_index(attribute);
  return b;
}

DetectionResults one_sample(std::vector<DetectionBox> boxes, const Token& sample = kSample) {
  DetectionResults results;
  results.add(sample, std::move(boxes));
  return results;
}

const int kCar = detection_class_index("car");
const int kBarrier = detection_class_index("barrier");
const int kCone = detection_class_index("traffic_cone");

TEST(Accumulate, ShiftOf70cmMissesAtHalfMetreAndMatchesAtOneTwoFour) {
  const auto gt = one_sample({box("car", 10.0, 20.0, -1, 0, "vehicle.moving")});
  const auto predictions = one_sample({box("car", 10.7, 20.0, 0.9, 0, "vehicle.moving")});
  EXPECT_EQ(calc_ap(accumulate(gt, predictions, kCar, 0.5), kMinRecall, kMinPrecision), 0.0);
  for (const double threshold : {1.0, 2.0, 4.0}) {
    const DetectionMetricData data = accumulate(gt, predictions, kCar, threshold);
    // One match at recall 1 with precision 1: every bin holds precision 1.
    EXPECT_DOUBLE_EQ(calc_ap(data, kMinRecall, kMinPrecision), 1.0) << threshold;
    EXPECT_NEAR(calc_tp(data, kMinRecall, kTransErr), 0.7, 1e-12);
    EXPECT_EQ(calc_tp(data, kMinRecall, kScaleErr), 0.0);
    EXPECT_EQ(calc_tp(data, kMinRecall, kVelErr), 0.0);
    EXPECT_EQ(calc_tp(data, kMinRecall, kAttrErr), 0.0);
  }
}

TEST(Accumulate, UnmatchedPredictionRankedLastLowersPrecisionAtFullRecall) {
  const auto gt = one_sample({box("car", 0, 0), box("car", 10, 0)});
  const auto predictions =
      one_sample({box("car", 0, 0, 0.9), box("car", 10, 0, 0.8), box("car", 50, 0, 0.1)});
  const DetectionMetricData data = accumulate(gt, predictions, kCar, 2.0);
  // recall [.5, 1, 1], precision [1, 1, 2/3]: numpy.interp at recall 1 takes the last of the
  // repeated recalls, so only the last bin drops to 2/3.
  EXPECT_EQ(data.precision[50], 1.0);
  EXPECT_EQ(data.precision[99], 1.0);
  EXPECT_DOUBLE_EQ(data.precision[100], 2.0 / 3.0);
  // AP = (89 * 0.9 + (2/3 - 0.1)) / 90 / 0.9 = 242/243.
  EXPECT_NEAR(calc_ap(data, kMinRecall, kMinPrecision), 242.0 / 243.0, 1e-14);
}

TEST(Accumulate, TpErrorsAreRunningMeansLookedUpByConfidence) {
  const auto gt = one_sample({box("car", 0, 0), box("car", 10, 0)});
  const auto predictions = one_sample({box("car", 0.2, 0, 0.9), box("car", 10.4, 0, 0.8)});
  const DetectionMetricData data = accumulate(gt, predictions, kCar, 2.0);
  EXPECT_EQ(data.max_recall_index(), 100);
  EXPECT_DOUBLE_EQ(data.confidence[100], 0.8);
  // Running means [.2, .3] at confidences [.9, .8]; recall bins up to .5 sit at confidence .9
  // (error .2), bins .51 .. 1 interpolate linearly to .3: mean over bins 11..100 is
  // (40 * .2 + sum_k=1..50 (.2 + .002 k)) / 90 = 20.55 / 90.
  EXPECT_NEAR(calc_tp(data, kMinRecall, kTransErr), 20.55 / 90, 1e-12);
}

TEST(Accumulate, EqualScoresRankTheLaterPredictionFirst) {
  const auto gt = one_sample({box("car", 0, 0)});
  // sorted((score, index))[::-1]: the prediction at index 1 is matched, index 0 is a FP.
  const auto predictions = one_sample({box("car", 0.1, 0, 0.5), box("car", 0.3, 0, 0.5)});
  const DetectionMetricData data = accumulate(gt, predictions, kCar, 2.0);
  EXPECT_NEAR(calc_tp(data, kMinRecall, kTransErr), 0.3, 1e-12);
  // recall [1, 1], precision [1, .5]: bins below recall 1 hold 1, the last .5.
  EXPECT_NEAR(calc_ap(data, kMinRecall, kMinPrecision), 80.5 / 81, 1e-14);
}

TEST(Accumulate, NearestUntakenGroundTruthOfTheSameSampleAndClass) {
  DetectionResults gt;
  gt.add(kSample, {box("car", 0, 0), box("pedestrian", 0.05, 0)});
  gt.add(kOtherSample, {box("car", 0.01, 0, -1, 0, "", {0, 0}, kOtherSample)});
  DetectionResults predictions;
  // Both predictions sit next to the one car of kSample: the first (higher score) takes it,
  // the second finds it taken and the pedestrian is of another class: a false positive.
  predictions.add(kSample, {box("car", 0.2, 0, 0.9), box("car", 0.02, 0, 0.8)});
  predictions.add(kOtherSample, {});
  const DetectionMetricData data = accumulate(gt, predictions, kCar, 2.0);
  EXPECT_NEAR(calc_tp(data, kMinRecall, kTransErr), 0.2, 1e-12);
  // recall [.5, .5], precision [1, .5]: from recall .5 on, the right value 0.
  EXPECT_EQ(data.precision[50], 0.5);
  EXPECT_EQ(data.precision[51], 0.0);
}

TEST(Accumulate, BarrierOrientationHasPeriodPi) {
  const double half_turn = M_PI;
  const auto barrier =
      accumulate(one_sample({box("barrier", 0, 0)}),
                 one_sample({box("barrier", 0, 0, 0.9, half_turn)}), kBarrier, 2.0);
  EXPECT_NEAR(class_tp_error(kBarrier, kOrientErr, barrier, kMinRecall), 0.0, 1e-12);
  EXPECT_TRUE(std::isnan(class_tp_error(kBarrier, kVelErr, barrier, kMinRecall)));
  EXPECT_TRUE(std::isnan(class_tp_error(kBarrier, kAttrErr, barrier, kMinRecall)));
  EXPECT_EQ(class_tp_error(kBarrier, kTransErr, barrier, kMinRecall), 0.0);

  const auto car = accumulate(one_sample({box("car", 0, 0)}),
                              one_sample({box("car", 0, 0, 0.9, half_turn)}), kCar, 2.0);
  EXPECT_NEAR(class_tp_error(kCar, kOrientErr, car, kMinRecall), M_PI, 1e-12);
}

TEST(Accumulate, TrafficConeHasOnlyTranslationAndScaleErrors) {
  DetectionBox smaller = box("traffic_cone", 0.1, 0, 0.9, 1.0);
  smaller.size = {1.0, 4.0, 1.5};  // aligned IoU = 6 / 12
  const auto data =
      accumulate(one_sample({box("traffic_cone", 0, 0)}), one_sample({smaller}), kCone, 2.0);
  EXPECT_NEAR(class_tp_error(kCone, kTransErr, data, kMinRecall), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(class_tp_error(kCone, kScaleErr, data, kMinRecall), 0.5);
  for (const TpMetric metric : {kOrientErr, kVelErr, kAttrErr}) {
    EXPECT_TRUE(std::isnan(class_tp_error(kCone, metric, data, kMinRecall)));
  }
}

TEST(Accumulate, NanVelocityAndMissingAttributeAreSkipped) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto gt = one_sample(
      {box("car", 0, 0, -1, 0, "", {nan, nan}), box("car", 10, 0, -1, 0, "", {0.0, 0.0})});
  const auto predictions = one_sample({box("car", 0, 0, 0.9, 0, "vehicle.moving"),
                                       box("car", 10, 0, 0.8, 0, "vehicle.parked", {0.5, 0.0})});
  const auto data = accumulate(gt, predictions, kCar, 2.0);
  // Velocity errors [NaN, .5]: running means [0 (leading NaN), .5]; bins up to recall .5 read
  // 0, then a line to .5 at recall 1: mean over bins 11..100 = sum_k (k / 100) / 90.
  EXPECT_NEAR(calc_tp(data, kMinRecall, kVelErr), 12.75 / 90, 1e-12);
  // Both ground truths lack an attribute: every attribute error is NaN, which gives 1.
  EXPECT_EQ(calc_tp(data, kMinRecall, kAttrErr), 1.0);
}

TEST(Accumulate, NoGroundTruthOrNoMatchGivesNoPredictions) {
  const auto gt = one_sample({box("car", 0, 0)});
  const auto far = one_sample({box("car", 30, 0, 0.9)});
  for (const auto& data : {accumulate(gt, far, kCar, 4.0), accumulate(gt, far, kBarrier, 4.0)}) {
    EXPECT_EQ(calc_ap(data, kMinRecall, kMinPrecision), 0.0);
    for (int m = 0; m < kNumTpMetrics; ++m) {
      EXPECT_EQ(calc_tp(data, kMinRecall, static_cast<TpMetric>(m)), 1.0);
    }
  }
}

TEST(Accumulate, ZeroScoreMatchesCountAsPastMaxRecall) {
  const auto data =
      accumulate(one_sample({box("car", 0, 0)}), one_sample({box("car", 0.5, 0, 0.0)}), kCar, 2.0);
  EXPECT_DOUBLE_EQ(calc_ap(data, kMinRecall, kMinPrecision), 1.0);
  EXPECT_EQ(data.max_recall_index(), 0);
  EXPECT_EQ(calc_tp(data, kMinRecall, kTransErr), 1.0);
}

TEST(Accumulate, PredictionOfAnUnknownSampleIsADataError) {
  DetectionResults predictions;
  predictions.add(kOtherSample, {box("car", 0, 0, 0.5, 0, "", {0, 0}, kOtherSample)});
  EXPECT_THROW(accumulate(one_sample({box("car", 0, 0)}), predictions, kCar, 2.0), DataError);
}

TEST(ScaleIou, AlignedBoxesAndNonPositiveSizes) {
  DetectionBox a = box("car", 0, 0), b = box("car", 5, 5);
  b.size = {1.0, 2.0, 3.0};
  // min = (1, 2, 1.5) -> 3; volumes 12 and 6: 3 / 15.
  EXPECT_DOUBLE_EQ(scale_iou(a, b), 3.0 / 15.0);
  b.size = {0.0, 2.0, 3.0};
  EXPECT_THROW(scale_iou(a, b), DataError);
}

}  // namespace
}  // namespace ptqat::tasks::detection
