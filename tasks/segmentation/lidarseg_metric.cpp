#include "tasks/segmentation/lidarseg_metric.h"

#include <filesystem>
#include <limits>

#include "core/error.h"
#include "tasks/class_iou.h"
#include "datasets/nuscenes/lidarseg_file.h"

namespace ptqat::tasks::segmentation {

void LidarsegConfusion::add(const torch::Tensor& ground_truth, const torch::Tensor& prediction) {
  PTQAT_ASSERT(ground_truth.numel() == prediction.numel(),
               "lidarseg confusion: {} labels against {} predictions", ground_truth.numel(),
               prediction.numel());
  const torch::Tensor gt = ground_truth.to(torch::kCPU, torch::kInt64).reshape({-1});
  const torch::Tensor pred = prediction.to(torch::kCPU, torch::kInt64).reshape({-1});
  const torch::Tensor cells =
      torch::bincount(gt * kNumClasses + pred, {}, kNumClasses * kNumClasses).to(torch::kInt64);
  const auto count = cells.accessor<int64_t, 1>();
  // Row 0 and column 0 stay zero: the devkit zeroes them for every frame.
  for (int g = 1; g < kNumClasses; ++g) {
    for (int p = 1; p < kNumClasses; ++p) counts_[g][p] += count[g * kNumClasses + p];
  }
}

std::array<double, kNumClasses> LidarsegConfusion::iou() const { return class_iou(counts_); }

double LidarsegConfusion::mean_iou() const {
  double sum = 0;
  int present = 0;
  for (const double value : iou()) {
    if (std::isnan(value)) continue;
    sum += value;
    ++present;
  }
  return present == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / present;
}

double LidarsegConfusion::frequency_weighted_iou() const {
  int64_t total = 0;
  std::array<int64_t, kNumClasses> rows{};
  for (int c = 0; c < kNumClasses; ++c) {
    for (int k = 0; k < kNumClasses; ++k) rows[c] += counts_[c][k];
    total += rows[c];
  }
  const std::array<double, kNumClasses> per_class = iou();
  double sum = 0;
  for (int c = 0; c < kNumClasses; ++c) {
    if (!std::isnan(per_class[c]) && total > 0) {
      sum += static_cast<double>(rows[c]) / static_cast<double>(total) * per_class[c];
    }
  }
  return sum;
}

LidarsegMetrics evaluate_lidarseg(const datasets::NuScenes& nusc, const std::string& split,
                                  const LidarsegPrediction& prediction) {
  const auto& tables = nusc.tables();
  LidarsegConfusion confusion;
  LidarsegMetrics metrics;
  for (const datasets::Row sample : nusc.split_samples(split)) {
    const datasets::Row lidar = tables.sample[sample].lidar_top;
    const datasets::Row record = nusc.lidarseg_of(lidar);
    const std::string token = tables.sample[sample].token.hex();
    PTQAT_CHECK(record != datasets::kNoRow, DataError,
                "{}/{}/lidarseg.json: no record for sample {}'s LIDAR_TOP keyframe", nusc.dataroot(),
                nusc.version(), token);
    const torch::Tensor ground_truth = nusc.to_challenge_labels(datasets::read_lidarseg_labels(
        nusc.path_of(tables.lidarseg[record].filename), -1));
    const torch::Tensor predicted = prediction(sample, ground_truth.size(0)).to(torch::kInt64);
    PTQAT_CHECK(predicted.numel() == ground_truth.numel(), DataError,
                "lidarseg prediction of sample {}: expected {} labels (the keyframe's points), "
                "got {}",
                token, ground_truth.numel(), predicted.numel());
    PTQAT_CHECK(predicted.numel() == 0 || (predicted.min().item<int64_t>() >= 1 &&
                                           predicted.max().item<int64_t>() < kNumClasses),
                DataError, "lidarseg prediction of sample {}: expected labels in 1..{}, got {}..{}",
                token, kNumClasses - 1, predicted.min().item<int64_t>(),
                predicted.max().item<int64_t>());
    confusion.add(ground_truth, predicted);
    ++metrics.samples;
  }
  metrics.iou = confusion.iou();
  metrics.mean_iou = confusion.mean_iou();
  metrics.frequency_weighted_iou = confusion.frequency_weighted_iou();
  return metrics;
}

std::string lidarseg_prediction_path(const std::string& results, const std::string& split,
                                     const std::string& lidar_sample_data_token) {
  return (std::filesystem::path(results) / "lidarseg" / split /
          (lidar_sample_data_token + "_lidarseg.bin"))
      .string();
}

LidarsegMetrics evaluate_lidarseg_folder(const datasets::NuScenes& nusc, const std::string& split,
                                         const std::string& results) {
  const auto& tables = nusc.tables();
  return evaluate_lidarseg(nusc, split, [&](datasets::Row sample, int64_t points) {
    const std::string path = lidarseg_prediction_path(
        results, split, tables.sample_data[tables.sample[sample].lidar_top].token.hex());
    PTQAT_CHECK(std::filesystem::is_regular_file(path), IoError,
                "{}: missing lidarseg prediction of sample {}", path,
                tables.sample[sample].token.hex());
    return datasets::read_lidarseg_labels(path, points);
  });
}

}  // namespace ptqat::tasks::segmentation
