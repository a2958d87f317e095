#pragma once
// Raw binary files read and written in one piece: the nuScenes formats without a container
// (.pcd.bin, _lidarseg.bin) and the folders the writers create. Errors are IoErrors naming the
// file.

#include <cstdint>
#include <cstdio>
#include <string>

namespace ptqat::datasets {

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

/// Creates the parent folders of `path`; IoError naming the file when that fails.
void create_parent_folders(const std::string& path);

/// Writes `bytes` bytes from `source` to `path` (replacing it), creating parent folders.
/// Throws IoError naming the file on any failure, including a failed close.
void write_file(const std::string& path, const void* source, uint64_t bytes);

}  // namespace ptqat::datasets
