#include "datasets/batch.h"

#include "core/error.h"

namespace ptqat::datasets {

namespace {

torch::Tensor move(const torch::Tensor& tensor, const torch::Device& device, bool non_blocking) {
  return tensor.defined() ? tensor.to(device, non_blocking) : tensor;
}

}  // namespace

Batch Batch::to(const torch::Device& device, bool non_blocking) const {
  Batch out = *this;
  for (torch::Tensor* tensor : out.tensors()) *tensor = move(*tensor, device, non_blocking);
  return out;
}

Batch Batch::pinned() const {
  Batch out = *this;
  for (torch::Tensor* tensor : out.tensors()) {
    if (tensor->defined()) *tensor = tensor->pin_memory();
  }
  return out;
}

Batch collate(const std::vector<Sample>& samples, const std::vector<Pillars>& pillars) {
  PTQAT_ASSERT(!samples.empty() && samples.size() == pillars.size(),
               "collate needs one Pillars per sample, got {} samples and {} pillars",
               samples.size(), pillars.size());
  const auto count = static_cast<int64_t>(samples.size());
  Batch batch;
  std::vector<torch::Tensor> features, coords, num_points, points, point_batch, point_pillar,
      point_keyframe, point_labels;
  int64_t pillar_offset = 0, max_boxes = 0;
  const bool with_labels = samples[0].point_labels.defined();
  for (int64_t i = 0; i < count; ++i) {
    const Sample& sample = samples[i];
    const Pillars& encoded = pillars[i];
    batch.tokens.push_back(sample.token);
    features.push_back(encoded.features);
    const auto rows = encoded.coords.size(0);
    coords.push_back(torch::cat(
        {torch::full({rows, 1}, i, torch::kInt64), encoded.coords.to(torch::kInt64)}, 1));
    num_points.push_back(encoded.num_points);
    points.push_back(sample.points);
    point_batch.push_back(torch::full({sample.points.size(0)}, i, torch::kInt64));
    const auto pillar = encoded.point_pillar;
    point_pillar.push_back(torch::where(pillar >= 0, pillar + pillar_offset, pillar));
    pillar_offset += rows;
    point_keyframe.push_back(torch::arange(sample.points.size(0)) < sample.keyframe_points);
    if (with_labels) {
      // Labels exist for the keyframe's points only, which come first.
      auto labels = torch::full({sample.points.size(0)}, -1, torch::kInt64);
      labels.slice(0, 0, sample.keyframe_points).copy_(sample.point_labels);
      point_labels.push_back(labels);
    }
    max_boxes = std::max(max_boxes, sample.boxes.size());
  }
  batch.pillar_features = torch::cat(features, 0);
  batch.pillar_coords = torch::cat(coords, 0);
  batch.pillar_num_points = torch::cat(num_points, 0);
  batch.points = torch::cat(points, 0);
  batch.point_batch = torch::cat(point_batch, 0);
  batch.point_pillar = torch::cat(point_pillar, 0);
  batch.point_keyframe = torch::cat(point_keyframe, 0);
  if (with_labels) batch.point_labels = torch::cat(point_labels, 0);

  batch.boxes = torch::zeros({count, max_boxes, 9}, torch::kFloat32);
  batch.box_labels = torch::full({count, max_boxes}, -1, torch::kInt64);
  batch.box_attributes = torch::full({count, max_boxes}, -1, torch::kInt64);
  for (int64_t i = 0; i < count; ++i) {
    const SampleBoxes& boxes = samples[i].boxes;
    const int64_t m = boxes.size();
    if (m == 0) continue;
    batch.boxes[i].slice(0, 0, m).copy_(boxes.boxes);
    batch.box_labels[i].slice(0, 0, m).copy_(boxes.labels);
    batch.box_attributes[i].slice(0, 0, m).copy_(boxes.attributes);
  }
  if (samples[0].occ_semantics.defined()) {
    std::vector<torch::Tensor> semantics, lidar, camera;
    for (const Sample& sample : samples) {
      semantics.push_back(sample.occ_semantics);
      lidar.push_back(sample.occ_mask_lidar);
      camera.push_back(sample.occ_mask_camera);
    }
    batch.occ_semantics = torch::stack(semantics);
    batch.occ_mask_lidar = torch::stack(lidar);
    batch.occ_mask_camera = torch::stack(camera);
  }
  return batch;
}

}  // namespace ptqat::datasets
