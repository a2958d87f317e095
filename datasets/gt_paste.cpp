#include "datasets/gt_paste.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ptqat::datasets {
namespace {

using Corners = std::array<std::array<double, 2>, 4>;

Corners bev_corners(const std::array<double, 9>& box) {
  const double c = std::cos(box[6]), s = std::sin(box[6]);
  const double half_l = box[4] / 2, half_w = box[3] / 2;
  Corners corners;
  const std::array<std::array<double, 2>, 4> local = {{{half_l, half_w}, {-half_l, half_w}, {-half_l, -half_w}, {half_l, -half_w}}};
  for (size_t i = 0; i < 4; ++i) {
    corners[i] = {box[0] + local[i][0] * c - local[i][1] * s, box[1] + local[i][0] * s + local[i][1] * c};
  }
  return corners;
}

std::array<double, 9> box_row(const torch::Tensor& boxes, int64_t row) {
  std::array<double, 9> box{};
  for (int64_t k = 0; k < 9; ++k) box[static_cast<size_t>(k)] = boxes[row][k].item<double>();
  return box;
}

}  // namespace

bool boxes_overlap_bev(const std::array<double, 9>& a, const std::array<double, 9>& b) {
  // Two convex polygons are disjoint iff their projections are disjoint on some edge normal.
  const Corners ca = bev_corners(a), cb = bev_corners(b);
  for (const Corners* polygon : {&ca, &cb}) {
    for (size_t i = 0; i < 2; ++i) {  // a rectangle has two edge directions
      const double nx = -((*polygon)[i + 1][1] - (*polygon)[i][1]);
      const double ny = (*polygon)[i + 1][0] - (*polygon)[i][0];
      double min_a = INFINITY, max_a = -INFINITY, min_b = INFINITY, max_b = -INFINITY;
      for (size_t k = 0; k < 4; ++k) {
        const double pa = ca[k][0] * nx + ca[k][1] * ny, pb = cb[k][0] * nx + cb[k][1] * ny;
        min_a = std::min(min_a, pa);
        max_a = std::max(max_a, pa);
        min_b = std::min(min_b, pb);
        max_b = std::max(max_b, pb);
      }
      if (max_a < min_b || max_b < min_a) return false;
    }
  }
  return true;
}

int64_t paste_ground_truth(Sample& sample, const GroundTruthDatabase& database,
                           const std::vector<int64_t>& counts, std::mt19937_64& rng) {
  PTQAT_CHECK(!sample.occ_semantics.defined(), DataError,
              "sample {}: GT-paste augmentation cannot be combined with Occ3D labels (the pasted "
              "objects would contradict the occupancy grid); turn augment.gt_paste off",
              sample.token);
  PTQAT_ASSERT(counts.size() == static_cast<size_t>(kNumDetectionClasses), "{} paste counts",
               counts.size());
  std::vector<std::array<double, 9>> occupied;
  std::array<int64_t, kNumDetectionClasses> present{};
  for (int64_t b = 0; b < sample.boxes.size(); ++b) {
    occupied.push_back(box_row(sample.boxes.boxes, b));
    ++present[static_cast<size_t>(sample.boxes.labels[b].item<int64_t>())];
  }
  std::vector<const GtObject*> kept;
  for (size_t c = 0; c < static_cast<size_t>(kNumDetectionClasses); ++c) {
    const int64_t wanted = std::min<int64_t>(counts[c] - present[c], static_cast<int64_t>(database.by_class[c].size()));
    if (wanted <= 0) continue;
    // `wanted` distinct objects of the class: a partial Fisher-Yates shuffle of its indices.
    std::vector<int64_t> pool = database.by_class[c];
    for (int64_t d = 0; d < wanted; ++d) {
      std::uniform_int_distribution<size_t> pick(static_cast<size_t>(d), pool.size() - 1);
      std::swap(pool[static_cast<size_t>(d)], pool[pick(rng)]);
      const GtObject& object = database.objects[static_cast<size_t>(pool[static_cast<size_t>(d)])];
      const bool collides = std::any_of(occupied.begin(), occupied.end(), [&](const auto& box) {
        return boxes_overlap_bev(box, object.box);
      });
      if (collides) continue;
      occupied.push_back(object.box);
      kept.push_back(&object);
    }
  }
  if (kept.empty()) return 0;

  // The sample's points inside a pasted box give way to the object's own.
  torch::Tensor keep = torch::ones({sample.points.size(0)}, torch::kBool);
  for (const GtObject* object : kept) keep &= ~points_in_box(sample.points, object->box);
  const torch::Tensor is_keyframe = torch::arange(sample.points.size(0)) < sample.keyframe_points;
  std::vector<torch::Tensor> keyframe = {sample.points.index({keep & is_keyframe})};
  std::vector<torch::Tensor> sweeps = {sample.points.index({keep & ~is_keyframe})};
  std::vector<torch::Tensor> labels;
  if (sample.point_labels.defined()) labels.push_back(sample.point_labels.index({keep.slice(0, 0, sample.keyframe_points)}));

  std::vector<torch::Tensor> boxes = {sample.boxes.boxes}, classes = {sample.boxes.labels},
                             attributes = {sample.boxes.attributes}, lidar_points = {sample.boxes.num_lidar_pts};
  for (const GtObject* object : kept) {
    torch::Tensor points = database.points.slice(0, object->first_point, object->first_point + object->num_points).clone();
    for (int64_t k = 0; k < 3; ++k) points.select(1, k) += static_cast<float>(object->box[static_cast<size_t>(k)]);
    const torch::Tensor object_labels =
        database.point_labels.slice(0, object->first_point, object->first_point + object->num_points);
    // The keyframe's own points are those without a time lag.
    const torch::Tensor own_keyframe = points.select(1, 4) == 0;
    keyframe.push_back(points.index({own_keyframe}));
    sweeps.push_back(points.index({~own_keyframe}));
    if (sample.point_labels.defined()) labels.push_back(object_labels.index({own_keyframe}).clamp_min(0));
    torch::Tensor box = torch::empty({1, 9}, torch::kFloat32);
    for (int64_t k = 0; k < 9; ++k) box[0][k] = object->box[static_cast<size_t>(k)];
    boxes.push_back(box);
    classes.push_back(torch::full({1}, object->label, torch::kInt64));
    attributes.push_back(torch::full({1}, object->attribute, torch::kInt64));
    lidar_points.push_back(torch::full({1}, object->num_points, torch::kInt64));
  }
  const torch::Tensor keyframe_points = torch::cat(keyframe);
  sample.keyframe_points = keyframe_points.size(0);
  sample.points = torch::cat({keyframe_points, torch::cat(sweeps)});
  if (sample.point_labels.defined()) sample.point_labels = torch::cat(labels);
  sample.boxes.boxes = torch::cat(boxes);
  sample.boxes.labels = torch::cat(classes);
  sample.boxes.attributes = torch::cat(attributes);
  sample.boxes.num_lidar_pts = torch::cat(lidar_points);
  return static_cast<int64_t>(kept.size());
}

}  // namespace ptqat::datasets
