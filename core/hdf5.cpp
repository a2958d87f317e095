#include "core/hdf5.h"

#include <algorithm>

#include "core/error.h"

namespace ptqat::core::h5 {

namespace {

/// HDF5 prints its own error stack to stderr unless told not to; ptqat reports one line instead.
void silence_hdf5_errors() {
  static const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

hid_t check_id(hid_t id, const char* call, const std::string& label, const std::string& name) {
  PTQAT_CHECK(id >= 0, IoError, "{}: {} failed for '{}'", label, call, name);
  return id;
}

void check_status(herr_t status, const char* call, const std::string& label,
                  const std::string& name) {
  PTQAT_CHECK(status >= 0, IoError, "{}: {} failed for '{}'", label, call, name);
}

/// A scalar dataspace for empty `dims`, a simple one otherwise.
Handle create_space(const std::vector<hsize_t>& dims, const std::string& label,
                    const std::string& name) {
  if (dims.empty()) {
    return Handle(check_id(H5Screate(H5S_SCALAR), "H5Screate", label, name), H5Sclose);
  }
  return Handle(check_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                         "H5Screate_simple", label, name),
                H5Sclose);
}

template <class T>
void write_dataset(const Group& group, const std::string& name, const std::vector<T>& values,
                   const std::vector<hsize_t>& dims, hid_t type, hid_t file_type) {
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  PTQAT_ASSERT(count == values.size(), "dataset {}: shape holds {} values, got {}", name, count,
               values.size());
  const Handle space = create_space(dims, group.label(), name);
  Handle dataset(check_id(H5Dcreate2(group.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT),
                          "H5Dcreate2", group.label(), name),
                 H5Dclose);
  if (count == 0) return;  // an empty extent has nothing to write (and no buffer to pass)
  check_status(H5Dwrite(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
               "H5Dwrite", group.label(), name);
}

template <class T>
std::vector<T> read_dataset(const Group& group, const std::string& name, hid_t type) {
  Handle dataset(
      check_id(H5Dopen2(group.id(), name.c_str(), H5P_DEFAULT), "H5Dopen2", group.label(), name),
      H5Dclose);
  Handle space(check_id(H5Dget_space(dataset.id()), "H5Dget_space", group.label(), name), H5Sclose);
  const hssize_t count = H5Sget_simple_extent_npoints(space.id());
  check_status(static_cast<herr_t>(count < 0 ? -1 : 0), "H5Sget_simple_extent_npoints",
               group.label(), name);
  std::vector<T> values(static_cast<size_t>(count));
  if (values.empty()) return values;
  check_status(H5Dread(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "H5Dread",
               group.label(), name);
  return values;
}

template <class T>
T read_single(const Group& group, const std::string& name, hid_t type) {
  const std::vector<T> values = read_dataset<T>(group, name, type);
  PTQAT_CHECK(values.size() == 1, IoError, "{}: dataset '{}' holds {} values, expected one",
              group.label(), name, values.size());
  return values[0];
}

/// The variable-length UTF-8 string type of Note [h5 strings].
Handle utf8_string_type(const std::string& label, const std::string& name) {
  Handle type(check_id(H5Tcopy(H5T_C_S1), "H5Tcopy", label, name), H5Tclose);
  check_status(H5Tset_size(type.id(), H5T_VARIABLE), "H5Tset_size", label, name);
  check_status(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset", label, name);
  return type;
}

/// HDF5 strings end at the first NUL: one inside would silently cut the string short.
std::vector<const char*> c_strings(const std::vector<std::string>& values, const std::string& label,
                                   const std::string& name) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const std::string& value : values) {
    PTQAT_CHECK(value.find('\0') == std::string::npos, IoError,
                "{}: string for '{}' holds a NUL byte, which an HDF5 string cannot store", label,
                name);
    pointers.push_back(value.c_str());
  }
  return pointers;
}

void write_string_dataset(const Group& group, const std::string& name,
                          const std::vector<std::string>& values,
                          const std::vector<hsize_t>& dims) {
  const std::vector<const char*> pointers = c_strings(values, group.label(), name);
  const Handle type = utf8_string_type(group.label(), name);
  const Handle space = create_space(dims, group.label(), name);
  Handle dataset(check_id(H5Dcreate2(group.id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT),
                          "H5Dcreate2", group.label(), name),
                 H5Dclose);
  if (pointers.empty()) return;
  check_status(H5Dwrite(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
               "H5Dwrite", group.label(), name);
}

/// Reads every string of a dataset or attribute (`object`, of the given type and dataspace),
/// variable- or fixed-length, in the file's own character set.
std::vector<std::string> read_string_values(hid_t object, bool is_attribute, hid_t file_type,
                                            hid_t space, const std::string& label,
                                            const std::string& name) {
  PTQAT_CHECK(H5Tget_class(file_type) == H5T_STRING, IoError, "{}: '{}' does not hold strings",
              label, name);
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  check_status(static_cast<herr_t>(count < 0 ? -1 : 0), "H5Sget_simple_extent_npoints", label,
               name);
  std::vector<std::string> values;
  if (count == 0) return values;
  // The file's type as memory type: no conversion, so no ASCII/UTF-8 mismatch can fail it.
  Handle memory_type(check_id(H5Tcopy(file_type), "H5Tcopy", label, name), H5Tclose);
  const auto read = [&](void* buffer) {
    return is_attribute ? H5Aread(object, memory_type.id(), buffer)
                        : H5Dread(object, memory_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
  };
  const htri_t variable = H5Tis_variable_str(file_type);
  check_status(variable < 0 ? -1 : 0, "H5Tis_variable_str", label, name);
  if (variable > 0) {
    std::vector<char*> pointers(static_cast<size_t>(count), nullptr);
    check_status(read(pointers.data()), is_attribute ? "H5Aread" : "H5Dread", label, name);
    values.reserve(pointers.size());
    for (const char* pointer : pointers) values.emplace_back(pointer ? pointer : "");
    check_status(H5Dvlen_reclaim(memory_type.id(), space, H5P_DEFAULT, pointers.data()),
                 "H5Dvlen_reclaim", label, name);
    return values;
  }
  const size_t size = H5Tget_size(file_type);
  PTQAT_CHECK(size > 0, IoError, "{}: '{}' has a string type of size 0", label, name);
  std::vector<char> buffer(size * static_cast<size_t>(count));
  check_status(read(buffer.data()), is_attribute ? "H5Aread" : "H5Dread", label, name);
  // Fixed-length strings are padded with NULs (NULLTERM, NULLPAD) or spaces (SPACEPAD).
  const char pad = H5Tget_strpad(file_type) == H5T_STR_SPACEPAD ? ' ' : '\0';
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
    std::string value(buffer.data() + i * size, size);
    if (pad == '\0') value.resize(std::min(value.size(), value.find('\0')));
    value.resize(value.find_last_not_of(pad) + 1);  // npos + 1 == 0: all padding
    values.push_back(std::move(value));
  }
  return values;
}

herr_t collect_link_name(hid_t, const char* name, const H5L_info_t*, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(name);
  return 0;
}

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && closer_) closer_(id_);  // a failed close cannot be reported from a destructor
  id_ = H5I_INVALID_HID;
}

Group Group::create_group(const std::string& name) const {
  return Group(
      Handle(check_id(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      "H5Gcreate2", label_, name),
             H5Gclose),
      label_);
}

Group Group::open_group(const std::string& name) const {
  return Group(Handle(check_id(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), "H5Gopen2", label_, name),
                      H5Gclose),
               label_);
}

bool Group::exists(const std::string& name) const {
  const htri_t found = H5Lexists(id(), name.c_str(), H5P_DEFAULT);
  check_status(found < 0 ? -1 : 0, "H5Lexists", label_, name);
  return found > 0;
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  hsize_t index = 0;
  check_status(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_link_name, &names),
               "H5Literate", label_, ".");
  return names;
}

void Group::copy(const std::string& name, const Group& destination,
                 const std::string& destination_name) const {
  check_status(H5Ocopy(id(), name.c_str(), destination.id(), destination_name.c_str(), H5P_DEFAULT,
                       H5P_DEFAULT),
               "H5Ocopy", label_,
               fmt::format("{} -> {}:{}", name, destination.label(), destination_name));
}

void Group::write(const std::string& name, const std::vector<double>& values,
                  const std::vector<hsize_t>& dims) const {
  write_dataset(*this, name, values, dims, H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE);
}

void Group::write(const std::string& name, const std::vector<int64_t>& values,
                  const std::vector<hsize_t>& dims) const {
  write_dataset(*this, name, values, dims, H5T_NATIVE_INT64, H5T_NATIVE_INT64);
}

void Group::write(const std::string& name, const std::vector<int64_t>& values,
                  const std::vector<hsize_t>& dims, hid_t file_type) const {
  write_dataset(*this, name, values, dims, H5T_NATIVE_INT64, file_type);
}

void Group::write(const std::string& name, const std::vector<float>& values,
                  const std::vector<hsize_t>& dims) const {
  write_dataset(*this, name, values, dims, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE);
}

std::vector<double> Group::read_doubles(const std::string& name) const {
  return read_dataset<double>(*this, name, H5T_NATIVE_DOUBLE);
}

std::vector<float> Group::read_floats(const std::string& name) const {
  return read_dataset<float>(*this, name, H5T_NATIVE_FLOAT);
}

std::vector<int64_t> Group::read_int64s(const std::string& name) const {
  return read_dataset<int64_t>(*this, name, H5T_NATIVE_INT64);
}

void Group::write_scalar(const std::string& name, double value) const {
  write_dataset(*this, name, std::vector<double>{value}, {}, H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE);
}

void Group::write_scalar(const std::string& name, int64_t value) const {
  write_dataset(*this, name, std::vector<int64_t>{value}, {}, H5T_NATIVE_INT64, H5T_NATIVE_INT64);
}

double Group::read_double(const std::string& name) const {
  return read_single<double>(*this, name, H5T_NATIVE_DOUBLE);
}

int64_t Group::read_int64(const std::string& name) const {
  return read_single<int64_t>(*this, name, H5T_NATIVE_INT64);
}

void Group::write_strings(const std::string& name, const std::vector<std::string>& values) const {
  write_string_dataset(*this, name, values, {static_cast<hsize_t>(values.size())});
}

void Group::write_string(const std::string& name, const std::string& value) const {
  write_string_dataset(*this, name, {value}, {});
}

std::vector<std::string> Group::read_strings(const std::string& name) const {
  Handle dataset(check_id(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), "H5Dopen2", label_, name),
                 H5Dclose);
  Handle type(check_id(H5Dget_type(dataset.id()), "H5Dget_type", label_, name), H5Tclose);
  Handle space(check_id(H5Dget_space(dataset.id()), "H5Dget_space", label_, name), H5Sclose);
  return read_string_values(dataset.id(), false, type.id(), space.id(), label_, name);
}

std::string Group::read_string(const std::string& name) const {
  std::vector<std::string> values = read_strings(name);
  PTQAT_CHECK(values.size() == 1, IoError, "{}: dataset '{}' holds {} strings, expected one",
              label_, name, values.size());
  return std::move(values[0]);
}

std::vector<hsize_t> Group::shape(const std::string& name) const {
  Handle dataset(check_id(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), "H5Dopen2", label_, name),
                 H5Dclose);
  Handle space(check_id(H5Dget_space(dataset.id()), "H5Dget_space", label_, name), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  check_status(rank, "H5Sget_simple_extent_ndims", label_, name);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  check_status(H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr),
               "H5Sget_simple_extent_dims", label_, name);
  return dims;
}

void Group::set_attribute(const std::string& name, const std::string& value) const {
  Handle type(check_id(H5Tcopy(H5T_C_S1), "H5Tcopy", label_, name), H5Tclose);
  check_status(H5Tset_size(type.id(), std::max<size_t>(1, value.size())), "H5Tset_size", label_,
               name);
  write_attribute(name, type.id(), type.id(), value.data());
}

void Group::set_attribute(const std::string& name, int64_t value) const {
  write_attribute(name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void Group::set_attribute(const std::string& name, double value) const {
  write_attribute(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void Group::set_attribute_utf8(const std::string& name, const std::string& value) const {
  const Handle type = utf8_string_type(label_, name);
  PTQAT_CHECK(value.find('\0') == std::string::npos, IoError,
              "{}: string for '{}' holds a NUL byte, which an HDF5 string cannot store", label_,
              name);
  const char* pointer = value.c_str();
  write_attribute(name, type.id(), type.id(), &pointer);
}

void Group::write_attribute(const std::string& name, hid_t file_type, hid_t memory_type,
                            const void* buffer) const {
  Handle space(check_id(H5Screate(H5S_SCALAR), "H5Screate", label_, name), H5Sclose);
  if (has_attribute(name)) {
    check_status(H5Adelete(id(), name.c_str()), "H5Adelete", label_, name);
  }
  Handle attribute(
      check_id(H5Acreate2(id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
               "H5Acreate2", label_, name),
      H5Aclose);
  check_status(H5Awrite(attribute.id(), memory_type, buffer), "H5Awrite", label_, name);
}

void Group::read_numeric_attribute(const std::string& name, hid_t memory_type, void* value) const {
  Handle attribute(check_id(H5Aopen(id(), name.c_str(), H5P_DEFAULT), "H5Aopen", label_, name),
                   H5Aclose);
  Handle type(check_id(H5Aget_type(attribute.id()), "H5Aget_type", label_, name), H5Tclose);
  Handle space(check_id(H5Aget_space(attribute.id()), "H5Aget_space", label_, name), H5Sclose);
  const H5T_class_t kind = H5Tget_class(type.id());
  PTQAT_CHECK(
      (kind == H5T_INTEGER || kind == H5T_FLOAT) && H5Sget_simple_extent_npoints(space.id()) == 1,
      IoError, "{}: attribute '{}' is not a single number", label_, name);
  check_status(H5Aread(attribute.id(), memory_type, value), "H5Aread", label_, name);
}

int64_t Group::int64_attribute(const std::string& name) const {
  int64_t value = 0;
  read_numeric_attribute(name, H5T_NATIVE_INT64, &value);
  return value;
}

double Group::double_attribute(const std::string& name) const {
  double value = 0;
  read_numeric_attribute(name, H5T_NATIVE_DOUBLE, &value);
  return value;
}

std::string Group::attribute(const std::string& name) const {
  Handle attribute(check_id(H5Aopen(id(), name.c_str(), H5P_DEFAULT), "H5Aopen", label_, name),
                   H5Aclose);
  Handle type(check_id(H5Aget_type(attribute.id()), "H5Aget_type", label_, name), H5Tclose);
  Handle space(check_id(H5Aget_space(attribute.id()), "H5Aget_space", label_, name), H5Sclose);
  std::vector<std::string> values =
      read_string_values(attribute.id(), true, type.id(), space.id(), label_, name);
  PTQAT_CHECK(values.size() == 1, IoError, "{}: attribute '{}' holds {} strings, expected one",
              label_, name, values.size());
  return std::move(values[0]);
}

bool Group::has_attribute(const std::string& name) const {
  const htri_t found = H5Aexists(id(), name.c_str());
  check_status(found < 0 ? -1 : 0, "H5Aexists", label_, name);
  return found > 0;
}

File File::create(const std::string& path) {
  silence_hdf5_errors();
  return File(Handle(check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                              "H5Fcreate", path, "/"),
                     H5Fclose),
              path);
}

File File::open_read_only(const std::string& path) {
  silence_hdf5_errors();
  return File(
      Handle(check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "H5Fopen", path, "/"),
             H5Fclose),
      path);
}

File File::create_in_memory(const std::string& label) {
  silence_hdf5_errors();
  const Handle access(check_id(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate", label, "/"), H5Pclose);
  constexpr size_t kGrowBy = size_t{1} << 20;
  check_status(H5Pset_fapl_core(access.id(), kGrowBy, /*backing_store=*/0), "H5Pset_fapl_core",
               label, "/");
  return File(Handle(check_id(H5Fcreate(label.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.id()),
                              "H5Fcreate", label, "/"),
                     H5Fclose),
              label);
}

std::string File::image() const {
  flush();
  const ssize_t size = H5Fget_file_image(id(), nullptr, 0);
  check_status(size < 0 ? -1 : 0, "H5Fget_file_image", label(), "/");
  std::string bytes(static_cast<size_t>(size), '\0');
  check_status(H5Fget_file_image(id(), bytes.data(), bytes.size()) == size ? 0 : -1,
               "H5Fget_file_image", label(), "/");
  return bytes;
}

void File::flush() const {
  check_status(H5Fflush(id(), H5F_SCOPE_GLOBAL), "H5Fflush", label(), "/");
}

}  // namespace ptqat::core::h5
