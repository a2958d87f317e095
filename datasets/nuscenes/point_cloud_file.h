#pragma once
// nuScenes LiDAR point files (`samples/LIDAR_TOP/*.pcd.bin`, `sweeps/LIDAR_TOP/*.pcd.bin`):
// raw little-endian float32 rows of x, y, z, intensity, ring index (docs/nuscenes.md section 3).

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ptqat::datasets {

/// Columns of one LiDAR point in a `.pcd.bin` file.
constexpr int64_t kLidarFileColumns = 5;

/// Reads a `.pcd.bin` into a new [N, 5] float32 tensor (x, y, z in m, LIDAR_TOP sensor frame;
/// intensity; ring index 0..31), in file order. The file is read with one fread straight into
/// the tensor's memory. Throws IoError when the file cannot be opened or read, DataError naming
/// the file when it holds no point, its size is not a multiple of 20 bytes, or a value is NaN or
/// infinite. Thread-safe (no shared state).
torch::Tensor read_lidar_points(const std::string& path);

/// Like read_lidar_points, into `buffer` (resized to N * 5 floats; its capacity is reused, which
/// spares the loader a fresh allocation and its page faults per file). Returns N.
int64_t read_lidar_points_into(const std::string& path, std::vector<float>& buffer);

/// Writes a [N, 5] float32 tensor (any device, any layout) as a `.pcd.bin`, creating parent
/// folders. Throws IoError when the file cannot be written; a tensor of another shape or dtype
/// is a bug in the caller (InternalError).
void write_lidar_points(const std::string& path, const torch::Tensor& points);

}  // namespace ptqat::datasets
