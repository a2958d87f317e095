#include "datasets/point_cloud_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "core/error.h"

// The nuScenes binary files are little-endian and are read straight into tensor memory without
// byte swapping; a big-endian host would need a swap on every value.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ptqat reads nuScenes files as-is");

namespace ptqat::datasets {

namespace {

std::string errno_text(int error) {
  return std::error_code(error, std::system_category()).message();
}

constexpr uint64_t kLidarRowBytes = kLidarFileColumns * sizeof(float);

}  // namespace

namespace detail {

InputFile::InputFile(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  PTQAT_CHECK(file_ != nullptr, IoError, "{}: cannot open for reading: {}", path,
              errno_text(errno));
  struct stat info {};
  if (fstat(fileno(file_), &info) != 0) {
    const int error = errno;
    std::fclose(file_);
    PTQAT_FAIL(IoError, "{}: cannot stat: {}", path, errno_text(error));
  }
  // fopen succeeds on a directory on Linux; only the first fread would fail, with a vaguer error.
  if (!S_ISREG(info.st_mode)) {
    std::fclose(file_);
    PTQAT_FAIL(IoError, "{}: expected a regular file, got a directory or special file", path);
  }
  size_ = static_cast<uint64_t>(info.st_size);
}

InputFile::~InputFile() {
  std::fclose(file_);  // read-only: nothing is lost when closing fails
}

void InputFile::read_exact(void* destination, uint64_t bytes) {
  if (bytes == 0) return;
  const size_t got = std::fread(destination, 1, bytes, file_);
  PTQAT_CHECK(got == bytes, IoError, "{}: expected to read {} bytes, got {} ({})", path_, bytes,
              got, std::ferror(file_) ? errno_text(errno) : "the file shrank while being read");
}

void write_file(const std::string& path, const void* source, uint64_t bytes) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    PTQAT_CHECK(!error, IoError, "{}: cannot create folder {}: {}", path, parent.string(),
                error.message());
  }
  std::FILE* file = std::fopen(path.c_str(), "wb");
  PTQAT_CHECK(file != nullptr, IoError, "{}: cannot open for writing: {}", path, errno_text(errno));
  const size_t written = bytes == 0 ? 0 : std::fwrite(source, 1, bytes, file);
  const int write_error = errno;
  // A full disk may only show at fclose, when the buffered tail is flushed.
  const bool closed = std::fclose(file) == 0;
  const int close_error = errno;
  PTQAT_CHECK(written == bytes, IoError, "{}: expected to write {} bytes, wrote {}: {}", path,
              bytes, written, errno_text(write_error));
  PTQAT_CHECK(closed, IoError, "{}: cannot finish writing: {}", path, errno_text(close_error));
}

}  // namespace detail

namespace {

uint64_t checked_size(const detail::InputFile& file, const std::string& path) {
  const uint64_t size = file.size();
  PTQAT_CHECK(size % kLidarRowBytes == 0, DataError,
              "{}: expected a multiple of {} bytes (N x {} float32), got {} bytes", path,
              kLidarRowBytes, kLidarFileColumns, size);
  return size;
}

}  // namespace

torch::Tensor read_lidar_points(const std::string& path) {
  detail::InputFile file(path);
  const uint64_t size = checked_size(file, path);
  torch::Tensor points = torch::empty(
      {static_cast<int64_t>(size / kLidarRowBytes), kLidarFileColumns}, torch::kFloat32);
  file.read_exact(points.data_ptr<float>(), size);
  return points;
}

int64_t read_lidar_points_into(const std::string& path, std::vector<float>& buffer) {
  detail::InputFile file(path);
  const uint64_t size = checked_size(file, path);
  buffer.resize(size / sizeof(float));
  file.read_exact(buffer.data(), size);
  return static_cast<int64_t>(size / kLidarRowBytes);
}

void write_lidar_points(const std::string& path, const torch::Tensor& points) {
  PTQAT_ASSERT(points.dim() == 2 && points.size(1) == kLidarFileColumns &&
                   points.scalar_type() == torch::kFloat32,
               "write_lidar_points({}): expected a [N, {}] float32 tensor, got {} {}", path,
               kLidarFileColumns, c10::str(points.sizes()), c10::toString(points.scalar_type()));
  const torch::Tensor rows = points.to(torch::kCPU).contiguous();
  detail::write_file(path, rows.data_ptr<float>(), static_cast<uint64_t>(rows.nbytes()));
}

}  // namespace ptqat::datasets
