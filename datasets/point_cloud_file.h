#pragma once
// nuScenes LiDAR point files (`samples/LIDAR_TOP/*.pcd.bin`, `sweeps/LIDAR_TOP/*.pcd.bin`):
// raw little-endian float32 rows of x, y, z, intensity, ring index (NUSCENES.md section 3).

#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ptqat::datasets {

/// Columns of one LiDAR point in a `.pcd.bin` file.
constexpr int64_t kLidarFileColumns = 5;

/// Reads a `.pcd.bin` into a new [N, 5] float32 tensor (x, y, z in m, LIDAR_TOP sensor frame;
/// intensity; ring index 0..31), in file order. The file is read with one fread straight into
/// the tensor's memory. Throws IoError when the file cannot be opened or read, DataError when
/// its size is not a multiple of 20 bytes. Thread-safe (no shared state).
torch::Tensor read_lidar_points(const std::string& path);

/// Like read_lidar_points, into `buffer` (resized to N * 5 floats; its capacity is reused, which
/// spares the loader a fresh allocation and its page faults per file). Returns N.
int64_t read_lidar_points_into(const std::string& path, std::vector<float>& buffer);

/// Writes a [N, 5] float32 tensor (any device, any layout) as a `.pcd.bin`, creating parent
/// folders. Throws IoError when the file cannot be written; a tensor of another shape or dtype
/// is a bug in the caller (InternalError).
void write_lidar_points(const std::string& path, const torch::Tensor& points);

namespace detail {

/// A binary file opened for reading in one piece: its size is known up front so that the caller
/// can allocate the destination (a tensor) and fill it with a single fread. Shared by the raw
/// nuScenes formats (.pcd.bin, _lidarseg.bin). Errors are IoError naming the file.
class InputFile {
 public:
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// Size of the file in bytes when it was opened.
  uint64_t size() const { return size_; }
  /// Reads exactly `bytes` bytes from the current position into `destination`.
  void read_exact(void* destination, uint64_t bytes);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
};

/// Writes `bytes` bytes from `source` to `path` (replacing it), creating parent folders.
/// Throws IoError naming the file on any failure, including a failed close.
void write_file(const std::string& path, const void* source, uint64_t bytes);

}  // namespace detail
}  // namespace ptqat::datasets
