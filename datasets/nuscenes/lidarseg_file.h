#pragma once
// nuScenes lidarseg label files (`lidarseg/<version>/<lidar_sd_token>_lidarseg.bin`): one uint8
// category.json `index` (0..31) per point, in the point order of the keyframe `.pcd.bin`
// (docs/nuscenes.md section 3).

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace ptqat::datasets {

/// Reads a `_lidarseg.bin` into a new [N] uint8 tensor of category indices, with one fread.
/// When `expected_points` >= 0 the label count must equal it (the keyframe's point count), else
/// DataError naming the file; -1 skips the check. Throws IoError when the file cannot be read.
/// Values are returned as stored (mapping them to classes is the caller's business); one above
/// 31, not a category index, is a DataError naming the file and the point.
torch::Tensor read_lidarseg_labels(const std::string& path, int64_t expected_points);

/// Category indices a lidarseg file may hold: category.json's `index`, 0..31.
inline constexpr int kLidarsegCategoryIndices = 32;

/// Writes a [N] uint8 tensor (any device, any layout) as a `_lidarseg.bin`, creating parent
/// folders. Throws IoError when the file cannot be written; another shape or dtype is a bug in
/// the caller (InternalError).
void write_lidarseg_labels(const std::string& path, const torch::Tensor& labels);

}  // namespace ptqat::datasets
