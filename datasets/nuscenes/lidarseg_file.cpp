#include "datasets/nuscenes/lidarseg_file.h"

#include "core/error.h"
#include "datasets/nuscenes/binary_file.h"

namespace ptqat::datasets {

torch::Tensor read_lidarseg_labels(const std::string& path, int64_t expected_points) {
  InputFile file(path);
  // One byte per label, so the file size is the label count.
  const auto count = static_cast<int64_t>(file.size());
  PTQAT_CHECK(expected_points < 0 || count == expected_points, DataError,
              "{}: expected {} labels (one per point of the keyframe .pcd.bin), got {}", path,
              expected_points, count);
  torch::Tensor labels = torch::empty({count}, torch::kUInt8);
  file.read_exact(labels.data_ptr<uint8_t>(), file.size());
  // category.json's `index` runs 0..31: anything above is not a nuScenes category.
  const uint8_t* values = labels.data_ptr<uint8_t>();
  for (int64_t i = 0; i < count; ++i) {
    PTQAT_CHECK(values[i] < kLidarsegCategoryIndices, DataError,
                "{}: label {} of point {}: expected a category index 0..{}", path,
                static_cast<int>(values[i]), i, kLidarsegCategoryIndices - 1);
  }
  return labels;
}

void write_lidarseg_labels(const std::string& path, const torch::Tensor& labels) {
  PTQAT_ASSERT(labels.dim() == 1 && labels.scalar_type() == torch::kUInt8,
               "write_lidarseg_labels({}): expected a [N] uint8 tensor, got {} {}", path,
               c10::str(labels.sizes()), c10::toString(labels.scalar_type()));
  const torch::Tensor values = labels.to(torch::kCPU).contiguous();
  write_file(path, values.data_ptr<uint8_t>(), static_cast<uint64_t>(values.numel()));
}

}  // namespace ptqat::datasets
