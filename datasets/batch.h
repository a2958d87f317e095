#pragma once
// A collated mini-batch: pillars, points and labels of several samples, ready for a model.

#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

#include "datasets/pillars.h"
#include "datasets/sample.h"

namespace ptqat::datasets {

struct Batch {
  std::vector<std::string> tokens;      ///< sample tokens, one per sample
  std::vector<int64_t> sample_indices;  ///< indices into the dataset's split
  std::vector<bool> padding;            ///< true for a sampler-padding repeat (dropped in eval)

  torch::Tensor pillar_features;    ///< [P, max_points, F] float32 (see Pillars)
  torch::Tensor pillar_coords;      ///< [P, 3] int64: sample in batch, iy, ix
  torch::Tensor pillar_num_points;  ///< [P] int64

  torch::Tensor points;        ///< [N, 5] float32, every sample's (augmented) points
  torch::Tensor point_batch;   ///< [N] int64: sample in batch
  torch::Tensor point_pillar;  ///< [N] int64: row in pillar_features, -1 when not encoded
  /// [N] bool: the point is one of its keyframe's own points (those come first per sample, in
  /// the `.pcd.bin` order: what a lidarseg prediction labels).
  torch::Tensor point_keyframe;
  /// [N] int64 lidarseg challenge class of keyframe points, -1 for older sweeps' points;
  /// undefined when the dataset loads no lidarseg.
  torch::Tensor point_labels;

  torch::Tensor boxes;           ///< [B, M, 9] float32, zero rows past each sample's boxes
  torch::Tensor box_labels;      ///< [B, M] int64 detection class, -1 for padding
  torch::Tensor box_attributes;  ///< [B, M] int64 attribute, -1 for none or padding

  torch::Tensor occ_semantics;    ///< [B, 200, 200, 16] uint8; undefined without occupancy
  torch::Tensor occ_mask_lidar;   ///< [B, 200, 200, 16] bool
  torch::Tensor occ_mask_camera;  ///< [B, 200, 200, 16] bool

  int64_t size() const { return static_cast<int64_t>(tokens.size()); }
  /// Every tensor member (some may be undefined).
  std::array<torch::Tensor*, 14> tensors() {
    return {&pillar_features, &pillar_coords, &pillar_num_points, &points, &point_batch,
            &point_pillar, &point_keyframe, &point_labels, &boxes, &box_labels, &box_attributes,
            &occ_semantics, &occ_mask_lidar, &occ_mask_camera};
  }
  /// A copy with every tensor on `device` (the CPU loader hands batches to a GPU model).
  Batch to(const torch::Device& device, bool non_blocking = false) const;
  /// A copy in page-locked host memory (needs a CUDA-enabled LibTorch and a GPU).
  Batch pinned() const;
};

/// Stacks encoded samples into a batch; `samples[i]` was encoded into `pillars[i]`.
Batch collate(const std::vector<Sample>& samples, const std::vector<Pillars>& pillars);

}  // namespace ptqat::datasets
