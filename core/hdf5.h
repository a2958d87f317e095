#pragma once
// RAII wrappers over the HDF5 C API (1.10 API names pinned with H5_USE_110_API, set on the core
// target). Just what the results store needs: files, groups, numeric and string datasets, string
// attributes, listing and copying. Every HDF5 return code is checked and turned into an IoError
// naming the call and the file.
//
// Note [h5 strings]: the *_utf8 writers and write_string(s) store variable-length UTF-8 strings,
// which h5py reads as `str` in attributes and as `bytes` in datasets (`.asstr()` gives `str`).
// set_attribute() keeps its fixed-length ASCII form (h5py: `numpy.bytes_`). The readers accept
// both forms.

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
  /// Names of the links (groups and datasets) directly in this group, in increasing name order.
  std::vector<std::string> children() const;
  /// Copies the object `name` of this group, with everything below it and its attributes, to
  /// `destination_name` in `destination`, which may lie in another file (H5Ocopy).
  void copy(const std::string& name, const Group& destination,
            const std::string& destination_name) const;

  /// Writes a row-major dataset of the given shape (product of dims == values.size(); empty
  /// dims: a scalar).
  void write(const std::string& name, const std::vector<double>& values,
             const std::vector<hsize_t>& dims) const;
  void write(const std::string& name, const std::vector<int64_t>& values,
             const std::vector<hsize_t>& dims) const;
  /// As above, stored as the integer type `file_type` (e.g. H5T_STD_I8LE for 8-bit codes):
  /// HDF5 converts on write, and read_int64s() converts back.
  void write(const std::string& name, const std::vector<int64_t>& values,
             const std::vector<hsize_t>& dims, hid_t file_type) const;
  /// Single precision on disk and in memory (point clouds).
  void write(const std::string& name, const std::vector<float>& values,
             const std::vector<hsize_t>& dims) const;
  std::vector<double> read_doubles(const std::string& name) const;
  std::vector<float> read_floats(const std::string& name) const;
  std::vector<int64_t> read_int64s(const std::string& name) const;
  std::vector<hsize_t> shape(const std::string& name) const;

  /// Scalar (rank-0) numeric datasets: h5py's `group[name][()]` gives a number.
  void write_scalar(const std::string& name, double value) const;
  void write_scalar(const std::string& name, int64_t value) const;
  /// Reads a dataset holding exactly one value (scalar or shape [1]); IoError otherwise.
  double read_double(const std::string& name) const;
  int64_t read_int64(const std::string& name) const;

  /// A 1-d dataset of variable-length UTF-8 strings (Note [h5 strings]); may be empty.
  void write_strings(const std::string& name, const std::vector<std::string>& values) const;
  /// A scalar variable-length UTF-8 string dataset, e.g. a config text.
  void write_string(const std::string& name, const std::string& value) const;
  /// Reads a string dataset of any shape (flattened), variable- or fixed-length.
  std::vector<std::string> read_strings(const std::string& name) const;
  /// Reads a string dataset holding exactly one string; IoError otherwise.
  std::string read_string(const std::string& name) const;

  /// A scalar fixed-length ASCII string attribute (replaced if present).
  void set_attribute(const std::string& name, const std::string& value) const;
  /// A scalar variable-length UTF-8 string attribute (replaced if present; Note [h5 strings]).
  void set_attribute_utf8(const std::string& name, const std::string& value) const;
  /// Scalar numeric attributes (int64 and float64 on disk; h5py reads numpy scalars).
  void set_attribute(const std::string& name, int64_t value) const;
  void set_attribute(const std::string& name, double value) const;
  /// Reads a scalar string attribute, fixed- or variable-length.
  std::string attribute(const std::string& name) const;
  /// Reads a scalar numeric attribute, converted by HDF5; IoError for a string or an array.
  int64_t int64_attribute(const std::string& name) const;
  double double_attribute(const std::string& name) const;
  bool has_attribute(const std::string& name) const;

  hid_t id() const { return handle_.id(); }
  const std::string& label() const { return label_; }

 private:
  void write_attribute(const std::string& name, hid_t file_type, hid_t memory_type,
                       const void* buffer) const;
  void read_numeric_attribute(const std::string& name, hid_t memory_type, void* value) const;

  Handle handle_;
  std::string label_;
};

/// Creates (truncating) or opens an HDF5 file.
class File : public Group {
 public:
  static File create(const std::string& path);
  static File open_read_only(const std::string& path);
  /// A new file held in memory only (HDF5's core driver, no backing store); `label` names it in
  /// error messages. Note [h5 in memory]: results are built this way and their image() written
  /// by ptqat, because HDF5 1.10 crashes on some failed writes (a full disk inside H5Ocopy is a
  /// segfault in its cleanup) and retries failed flushes at exit.
  static File create_in_memory(const std::string& label);
  /// Flushes the file's buffers to the OS (the caller fsyncs before renaming into place).
  void flush() const;
  /// The bytes of the whole file as it would be on disk (H5Fget_file_image), after a flush.
  std::string image() const;

 private:
  using Group::Group;
};

}  // namespace ptqat::core::h5
