#include "datasets/nuscenes/point_cloud_file.h"

#include <cmath>

#include "core/error.h"
#include "datasets/nuscenes/binary_file.h"

// The nuScenes binary files are little-endian and are read straight into tensor memory without
// byte swapping; a big-endian host would need a swap on every value.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ptqat reads nuScenes files as-is");

namespace ptqat::datasets {

namespace {

constexpr uint64_t kLidarRowBytes = kLidarFileColumns * sizeof(float);

uint64_t checked_size(const InputFile& file, const std::string& path) {
  const uint64_t size = file.size();
  PTQAT_CHECK(size % kLidarRowBytes == 0 && size > 0, DataError,
              "{}: expected a positive multiple of {} bytes (N >= 1 points x {} float32), got {} "
              "bytes",
              path, kLidarRowBytes, kLidarFileColumns, size);
  return size;
}

/// A NaN or inf coordinate would reach the loss as NaN far from its file: named here.
void check_finite(const float* values, uint64_t count, const std::string& path) {
  for (uint64_t i = 0; i < count; ++i) {
    PTQAT_CHECK(std::isfinite(values[i]), DataError,
                "{}: point {} has a non-finite value ({}) in column {}", path,
                i / kLidarFileColumns, values[i], i % kLidarFileColumns);
  }
}

}  // namespace

torch::Tensor read_lidar_points(const std::string& path) {
  InputFile file(path);
  const uint64_t size = checked_size(file, path);
  torch::Tensor points = torch::empty(
      {static_cast<int64_t>(size / kLidarRowBytes), kLidarFileColumns}, torch::kFloat32);
  file.read_exact(points.data_ptr<float>(), size);
  check_finite(points.data_ptr<float>(), size / sizeof(float), path);
  return points;
}

int64_t read_lidar_points_into(const std::string& path, std::vector<float>& buffer) {
  InputFile file(path);
  const uint64_t size = checked_size(file, path);
  buffer.resize(size / sizeof(float));
  file.read_exact(buffer.data(), size);
  check_finite(buffer.data(), buffer.size(), path);
  return static_cast<int64_t>(size / kLidarRowBytes);
}

void write_lidar_points(const std::string& path, const torch::Tensor& points) {
  PTQAT_ASSERT(points.dim() == 2 && points.size(1) == kLidarFileColumns &&
                   points.scalar_type() == torch::kFloat32,
               "write_lidar_points({}): expected a [N, {}] float32 tensor, got {} {}", path,
               kLidarFileColumns, c10::str(points.sizes()), c10::toString(points.scalar_type()));
  const torch::Tensor rows = points.to(torch::kCPU).contiguous();
  write_file(path, rows.data_ptr<float>(), static_cast<uint64_t>(rows.nbytes()));
}

}  // namespace ptqat::datasets
