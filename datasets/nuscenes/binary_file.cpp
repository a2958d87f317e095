#include "datasets/nuscenes/binary_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace ptqat::datasets {

namespace {

std::string errno_text(int error) {
  return std::error_code(error, std::system_category()).message();
}

}  // namespace

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

void create_parent_folders(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  PTQAT_CHECK(!error, IoError, "{}: cannot create folder {}: {}", path, parent.string(),
              error.message());
}

void write_file(const std::string& path, const void* source, uint64_t bytes) {
  create_parent_folders(path);
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

}  // namespace ptqat::datasets
