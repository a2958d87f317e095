#pragma once
// A fresh directory under the system temp dir, removed with everything in it at scope exit.

#include <filesystem>
#include <string>

namespace ptqat::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Writes `text` to `path`, creating parent folders.
void write_text(const std::filesystem::path& path, const std::string& text);

/// The bytes of the file at `path` ("" when it cannot be read): records compared byte for byte.
std::string read_bytes(const std::filesystem::path& path);

}  // namespace ptqat::testing
