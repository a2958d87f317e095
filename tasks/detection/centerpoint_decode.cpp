#include "tasks/detection/centerpoint_decode.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"
#include "tasks/detection/centerpoint_loss.h"

namespace ptqat::tasks::detection {

namespace {

/// Speed (m/s) above which CenterPoint's export calls an object moving.
constexpr double kMovingSpeed = 0.2;

/// Indices of `scores` ([N] float32, CPU) by decreasing score, ties in index order.
std::vector<int64_t> by_score(const torch::Tensor& scores) {
  const auto s = scores.accessor<float, 1>();
  std::vector<int64_t> order(static_cast<size_t>(scores.size(0)));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
  return order;
}

/// The boxes of one task group: top-k peaks, decoded, on the CPU; [B, k, 9], [B, k], [B, k].
struct GroupPeaks {
  torch::Tensor boxes, scores, labels;
};

GroupPeaks group_peaks(const CenterPointHeadOutput& head, const std::vector<int>& classes,
                       const HeadGrid& grid, int64_t top_k) {
  const int64_t batch = head.heatmap.size(0), height = head.heatmap.size(2),
                width = head.heatmap.size(3);
  const torch::Tensor scores = torch::sigmoid(head.heatmap.detach()).reshape({batch, -1});
  const int64_t k = std::min(top_k, scores.size(1));
  auto [top_scores, top_index] = scores.topk(k, 1);
  const torch::Tensor cell = top_index.remainder(height * width);
  const torch::Tensor channel = torch::div(top_index, height * width, "floor");
  const torch::Tensor code =
      gather_cells(head.regression().detach(), cell).to(torch::kCPU, torch::kFloat32);
  const torch::Tensor cell_cpu = cell.to(torch::kCPU);
  const torch::Tensor xs = cell_cpu.remainder(width).to(torch::kFloat32);
  const torch::Tensor ys = torch::div(cell_cpu, width, "floor").to(torch::kFloat32);

  using torch::indexing::Slice;
  const auto column = [&](int64_t i) { return code.select(2, i); };
  const torch::Tensor x = (xs + column(0)) * grid.cell_x + grid.x_min;
  const torch::Tensor y = (ys + column(1)) * grid.cell_y + grid.y_min;
  const torch::Tensor size = code.index({Slice(), Slice(), Slice(3, 6)}).exp();
  const torch::Tensor yaw = torch::atan2(column(6), column(7));
  GroupPeaks peaks;
  peaks.boxes = torch::cat({x.unsqueeze(2), y.unsqueeze(2), column(2).unsqueeze(2), size,
                            yaw.unsqueeze(2), code.index({Slice(), Slice(), Slice(8, 10)})},
                           2);
  peaks.scores = top_scores.to(torch::kCPU, torch::kFloat32);
  const torch::Tensor lut = torch::tensor(std::vector<int64_t>(classes.begin(), classes.end()));
  peaks.labels = lut.index_select(0, channel.to(torch::kCPU).reshape({-1})).view({batch, k});
  return peaks;
}

}  // namespace

std::vector<int64_t> circle_nms(const torch::Tensor& centers, const torch::Tensor& scores,
                                double threshold) {
  PTQAT_ASSERT(centers.dim() == 2 && centers.size(1) >= 2 && scores.dim() == 1 &&
                   scores.size(0) == centers.size(0),
               "circle_nms: centers {} and scores {} do not match", fmt::join(centers.sizes(), "x"),
               fmt::join(scores.sizes(), "x"));
  const torch::Tensor c = centers.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto xy = c.accessor<double, 2>();
  const std::vector<int64_t> order = by_score(scores.to(torch::kCPU, torch::kFloat32).contiguous());
  std::vector<bool> suppressed(order.size(), false);
  std::vector<int64_t> keep;
  for (size_t a = 0; a < order.size(); ++a) {
    const int64_t i = order[a];
    if (suppressed[static_cast<size_t>(i)]) continue;
    keep.push_back(i);
    for (size_t b = a + 1; b < order.size(); ++b) {
      const int64_t j = order[b];
      const double dx = xy[i][0] - xy[j][0], dy = xy[i][1] - xy[j][1];
      if (dx * dx + dy * dy <= threshold) suppressed[static_cast<size_t>(j)] = true;
    }
  }
  return keep;
}

std::vector<DecodedBoxes> decode(const CenterPointOutput& output,
                                 const std::vector<std::vector<int>>& class_groups,
                                 const HeadGrid& grid, const CenterPointDecodeConfig& config) {
  PTQAT_ASSERT(!output.empty() && output.size() == class_groups.size(),
               "{} head outputs for {} task groups", output.size(), class_groups.size());
  PTQAT_ASSERT(config.post_center_range.size() == 6 &&
                   config.circle_nms_threshold.size() == datasets::kNumDetectionClasses,
               "decode config not validated");
  const int64_t batch = output[0].heatmap.size(0);
  std::vector<GroupPeaks> groups;
  for (size_t g = 0; g < output.size(); ++g) {
    groups.push_back(group_peaks(output[g], class_groups[g], grid, config.top_k));
  }
  const std::vector<double>& range = config.post_center_range;

  std::vector<DecodedBoxes> decoded;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<torch::Tensor> boxes, scores, labels;
    for (const GroupPeaks& peaks : groups) {
      const torch::Tensor box = peaks.boxes[b], score = peaks.scores[b];
      torch::Tensor keep = score > config.score_threshold;
      for (int64_t axis = 0; axis < 3; ++axis) {
        const torch::Tensor v = box.select(1, axis);
        keep = keep & (v >= range[axis]) & (v <= range[axis + 3]);
      }
      const torch::Tensor rows = keep.nonzero().squeeze(1);
      boxes.push_back(box.index_select(0, rows));
      scores.push_back(score.index_select(0, rows));
      labels.push_back(peaks.labels[b].index_select(0, rows));
    }
    const torch::Tensor all_boxes = torch::cat(boxes), all_scores = torch::cat(scores),
                        all_labels = torch::cat(labels);

    // Circle NMS within each class, then the best max_boxes of the sample.
    std::vector<int64_t> kept;
    const auto label = all_labels.accessor<int64_t, 1>();
    for (int c = 0; c < datasets::kNumDetectionClasses; ++c) {
      std::vector<int64_t> members;
      for (int64_t i = 0; i < all_labels.size(0); ++i) {
        if (label[i] == c) members.push_back(i);
      }
      if (members.empty()) continue;
      const double threshold = config.circle_nms_threshold[static_cast<size_t>(c)];
      if (threshold <= 0) {
        kept.insert(kept.end(), members.begin(), members.end());
        continue;
      }
      const torch::Tensor rows = torch::tensor(members);
      for (const int64_t j : circle_nms(all_boxes.index_select(0, rows),
                                        all_scores.index_select(0, rows), threshold)) {
        kept.push_back(members[static_cast<size_t>(j)]);
      }
    }
    std::sort(kept.begin(), kept.end());  // candidate order, so equal scores rank stably
    const torch::Tensor kept_rows = torch::tensor(kept, torch::kInt64);
    const torch::Tensor kept_scores = all_scores.index_select(0, kept_rows);
    std::vector<int64_t> order = by_score(kept_scores);
    if (static_cast<int64_t>(order.size()) > config.max_boxes) {
      order.resize(static_cast<size_t>(config.max_boxes));
    }
    const torch::Tensor rows = kept_rows.index_select(0, torch::tensor(order, torch::kInt64));
    DecodedBoxes sample;
    sample.boxes = all_boxes.index_select(0, rows);
    sample.scores = all_scores.index_select(0, rows);
    sample.labels = all_labels.index_select(0, rows);
    decoded.push_back(std::move(sample));
  }
  return decoded;
}

datasets::RigidTransform lidar_to_global(const datasets::NuScenes& index, datasets::Row sample) {
  const datasets::Row lidar = index.tables().sample[static_cast<size_t>(sample)].lidar_top;
  return index.ego_to_global(lidar) * index.sensor_to_ego(lidar);
}

int default_attribute(int detection_class, double speed) {
  PTQAT_ASSERT(detection_class >= 0 && detection_class < datasets::kNumDetectionClasses,
               "detection class {} out of range", detection_class);
  const std::string_view name = datasets::kDetectionNames[static_cast<size_t>(detection_class)];
  const bool vehicle = name == "car" || name == "truck" || name == "bus" || name == "trailer" ||
                       name == "construction_vehicle";
  const bool cycle = name == "bicycle" || name == "motorcycle";
  std::string_view attribute;
  if (speed > kMovingSpeed) {
    if (vehicle) attribute = "vehicle.moving";
    if (cycle) attribute = "cycle.with_rider";
    if (name == "pedestrian") attribute = "pedestrian.moving";
  } else {
    if (vehicle) attribute = name == "bus" ? "vehicle.stopped" : "vehicle.parked";
    if (cycle) attribute = "cycle.without_rider";
    if (name == "pedestrian") attribute = "pedestrian.standing";
  }
  return attribute.empty() ? -1 : datasets::attribute_index(attribute);
}

std::vector<DetectionBox> to_global(const DecodedBoxes& boxes,
                                    const datasets::RigidTransform& lidar_to_global,
                                    const Token& sample) {
  std::vector<DetectionBox> out;
  if (boxes.size() == 0) return out;
  const torch::Tensor values = boxes.boxes.to(torch::kCPU, torch::kFloat64).contiguous();
  const torch::Tensor scores = boxes.scores.to(torch::kCPU, torch::kFloat64).contiguous();
  const torch::Tensor labels = boxes.labels.to(torch::kCPU, torch::kInt64).contiguous();
  const auto v = values.accessor<double, 2>();
  const auto score = scores.accessor<double, 1>();
  const auto label = labels.accessor<int64_t, 1>();
  for (int64_t i = 0; i < boxes.size(); ++i) {
    // The devkit's Box in the LiDAR frame (orientation: yaw about z), then Box.rotate +
    // Box.translate by calibrated_sensor and ego_pose: the velocity is rotated, not translated.
    const Eigen::Vector3d centre = lidar_to_global.apply({v[i][0], v[i][1], v[i][2]});
    const Eigen::Quaterniond rotation =
        (lidar_to_global.rotation *
         Eigen::Quaterniond(Eigen::AngleAxisd(v[i][6], Eigen::Vector3d::UnitZ())))
            .normalized();
    const Eigen::Vector3d velocity =
        lidar_to_global.rotation * Eigen::Vector3d(v[i][7], v[i][8], 0);
    DetectionBox box;
    box.sample_token = sample;
    box.translation = {centre.x(), centre.y(), centre.z()};
    box.size = {v[i][3], v[i][4], v[i][5]};
    box.rotation = {rotation.w(), rotation.x(), rotation.y(), rotation.z()};
    box.velocity = {velocity.x(), velocity.y()};
    box.detection_class = static_cast<int>(label[i]);
    box.score = score[i];
    box.attribute = default_attribute(box.detection_class, std::hypot(velocity.x(), velocity.y()));
    out.push_back(box);
  }
  return out;
}

void add_predictions(const datasets::NuScenes& index, const datasets::Batch& batch,
                     const std::vector<DecodedBoxes>& decoded, DetectionResults& results) {
  PTQAT_ASSERT(static_cast<int64_t>(decoded.size()) == batch.size(),
               "{} decoded samples for a batch of {}", decoded.size(), batch.size());
  for (int64_t b = 0; b < batch.size(); ++b) {
    const auto i = static_cast<size_t>(b);
    if (i < batch.padding.size() && batch.padding[i]) continue;
    const std::optional<Token> token = Token::parse(batch.tokens[i]);
    const datasets::Row row = token ? index.sample_row(*token) : datasets::kNoRow;
    PTQAT_CHECK(row != datasets::kNoRow, DataError,
                "{}: sample '{}' of the batch is not in {}/sample.json", index.version(),
                batch.tokens[i], index.version());
    results.add(*token, to_global(decoded[i], lidar_to_global(index, row), *token));
  }
}

}  // namespace ptqat::tasks::detection
