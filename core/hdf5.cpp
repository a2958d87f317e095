#include "core/hdf5.h"

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

template <class T>
void write_dataset(const Group& group, const std::string& name, const std::vector<T>& values,
                   const std::vector<hsize_t>& dims, hid_t type, hid_t file_type) {
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  PTQAT_ASSERT(count == values.size(), "dataset {}: shape holds {} values, got {}", name, count,
               values.size());
  Handle space(check_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                        "H5Screate_simple", group.label(), name),
               H5Sclose);
  Handle dataset(check_id(H5Dcreate2(group.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT),
                          "H5Dcreate2", group.label(), name),
                 H5Dclose);
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
  check_status(H5Dread(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "H5Dread",
               group.label(), name);
  return values;
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

std::vector<double> Group::read_doubles(const std::string& name) const {
  return read_dataset<double>(*this, name, H5T_NATIVE_DOUBLE);
}

std::vector<int64_t> Group::read_int64s(const std::string& name) const {
  return read_dataset<int64_t>(*this, name, H5T_NATIVE_INT64);
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
  Handle space(check_id(H5Screate(H5S_SCALAR), "H5Screate", label_, name), H5Sclose);
  if (H5Aexists(id(), name.c_str()) > 0) {
    check_status(H5Adelete(id(), name.c_str()), "H5Adelete", label_, name);
  }
  Handle attribute(
      check_id(H5Acreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
               "H5Acreate2", label_, name),
      H5Aclose);
  check_status(H5Awrite(attribute.id(), type.id(), value.data()), "H5Awrite", label_, name);
}

std::string Group::attribute(const std::string& name) const {
  Handle attribute(check_id(H5Aopen(id(), name.c_str(), H5P_DEFAULT), "H5Aopen", label_, name),
                   H5Aclose);
  Handle type(check_id(H5Aget_type(attribute.id()), "H5Aget_type", label_, name), H5Tclose);
  const size_t size = H5Tget_size(type.id());
  PTQAT_CHECK(size > 0, IoError, "{}: attribute '{}' is not a string", label_, name);
  std::string value(size, '\0');
  check_status(H5Aread(attribute.id(), type.id(), value.data()), "H5Aread", label_, name);
  value.resize(value.find_last_not_of('\0') + 1);
  return value;
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

void File::flush() const {
  check_status(H5Fflush(id(), H5F_SCOPE_GLOBAL), "H5Fflush", label(), "/");
}

}  // namespace ptqat::core::h5
