#pragma once
// RAII wrappers over the HDF5 C API (1.10 API names pinned with H5_USE_110_API, set on the core
// target). Just what the results store needs: files, groups, numeric datasets, string attributes.
// Every HDF5 return code is checked and turned into an IoError naming the call and the file.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ptqat::core::h5 {

/// Owns one HDF5 identifier and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept { *this = std::move(other); }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t id() const { return id_; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// A group (a file is its own root group). `label` names the file in error messages.
class Group {
 public:
  Group(Handle handle, std::string label) : handle_(std::move(handle)), label_(std::move(label)) {}

  Group create_group(const std::string& name) const;
  Group open_group(const std::string& name) const;
  bool exists(const std::string& name) const;

  /// Writes a row-major dataset of the given shape (product of dims == values.size()).
  void write(const std::string& name, const std::vector<double>& values,
             const std::vector<hsize_t>& dims) const;
  void write(const std::string& name, const std::vector<int64_t>& values,
             const std::vector<hsize_t>& dims) const;
  /// As above, stored as the integer type `file_type` (e.g. H5T_STD_I8LE for 8-bit codes):
  /// HDF5 converts on write, and read_int64s() converts back.
  void write(const std::string& name, const std::vector<int64_t>& values,
             const std::vector<hsize_t>& dims, hid_t file_type) const;
  std::vector<double> read_doubles(const std::string& name) const;
  std::vector<int64_t> read_int64s(const std::string& name) const;
  std::vector<hsize_t> shape(const std::string& name) const;

  void set_attribute(const std::string& name, const std::string& value) const;
  std::string attribute(const std::string& name) const;

  hid_t id() const { return handle_.id(); }
  const std::string& label() const { return label_; }

 private:
  Handle handle_;
  std::string label_;
};

/// Creates (truncating) or opens an HDF5 file.
class File : public Group {
 public:
  static File create(const std::string& path);
  static File open_read_only(const std::string& path);
  /// Flushes the file's buffers to the OS (the caller fsyncs before renaming into place).
  void flush() const;

 private:
  using Group::Group;
};

}  // namespace ptqat::core::h5
