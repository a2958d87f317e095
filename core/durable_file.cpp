#include "core/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace ptqat::core {

namespace {

// POSIX calls, not std::filesystem: the standard library has no fsync.
void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  PTQAT_CHECK(fd >= 0, IoError, "{}: cannot open for fsync: {}", path, std::strerror(errno));
  const int status = ::fsync(fd);
  const int saved_errno = errno;
  ::close(fd);
  PTQAT_CHECK(status == 0, IoError, "{}: fsync failed: {}", path, std::strerror(saved_errno));
}

}  // namespace

std::string temporary_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void publish_file(const std::string& temporary, const std::string& path) {
  try {
    fsync_path(temporary, O_RDONLY);
    PTQAT_CHECK(std::rename(temporary.c_str(), path.c_str()) == 0, IoError,
                "{}: cannot rename {} into place: {}", path, temporary, std::strerror(errno));
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  fsync_path(folder.string(), O_RDONLY | O_DIRECTORY);
}

bool publish_file_if_absent(const std::string& temporary, const std::string& path) {
  bool published = false;
  try {
    fsync_path(temporary, O_RDONLY);
    published = ::link(temporary.c_str(), path.c_str()) == 0;
    PTQAT_CHECK(published || errno == EEXIST, IoError, "{}: cannot link {} into place: {}", path,
                temporary, std::strerror(errno));
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
  std::remove(temporary.c_str());
  if (published) {
    std::filesystem::path folder = std::filesystem::path(path).parent_path();
    if (folder.empty()) folder = ".";
    fsync_path(folder.string(), O_RDONLY | O_DIRECTORY);
  }
  return published;
}

int write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return errno;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return 0;
}

void write_new_file(const std::string& path, std::string_view bytes, const std::string& label) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  PTQAT_CHECK(fd >= 0, IoError, "{}: cannot create {}: {}", label, path, std::strerror(errno));
  int error = write_all(fd, bytes);
  if (::close(fd) != 0 && error == 0) error = errno;  // NFS reports some failures at close
  if (error != 0) {
    std::remove(path.c_str());
    PTQAT_FAIL(IoError, "{}: cannot write: {}", label, std::strerror(error));
  }
}

void write_file_durably(const std::string& path, std::string_view bytes) {
  const std::string temporary = temporary_path_for(path);
  write_new_file(temporary, bytes, path);
  publish_file(temporary, path);
}

}  // namespace ptqat::core
