#include "datasets/nuscenes/occ3d.h"

#include <map>

#include "core/error.h"
#include "datasets/nuscenes/npz.h"

namespace ptqat::datasets {

namespace {

const std::vector<int64_t> kOccShape = {kOccGridX, kOccGridY, kOccGridZ};

/// The array stored under `key`, checked for presence, dtype and grid shape.
const NpyArray& grid_member(const std::map<std::string, NpyArray>& arrays, const std::string& path,
                            const std::string& key, bool bool_allowed) {
  const auto found = arrays.find(key);
  if (found == arrays.end()) {
    std::vector<std::string> keys;
    keys.reserve(arrays.size());
    for (const auto& entry : arrays) keys.push_back(entry.first);
    PTQAT_FAIL(DataError,
               "{}: expected key '{}' (an Occ3D labels.npz holds semantics, mask_lidar, "
               "mask_camera), got keys [{}]",
               path, key, fmt::join(keys, ", "));
  }
  const NpyArray& array = found->second;
  const bool dtype_ok = array.descr == "|u1" || (bool_allowed && array.descr == "|b1");
  PTQAT_CHECK(dtype_ok, DataError, "{}:{}: expected dtype {}, got '{}'", path, key,
              bool_allowed ? "'|u1' or '|b1'" : "'|u1'", array.descr);
  PTQAT_CHECK(array.shape == kOccShape, DataError, "{}:{}: expected shape {}, got {}", path, key,
              npy_shape_text(kOccShape), npy_shape_text(array.shape));
  return array;
}

torch::Tensor grid_as_uint8(const torch::Tensor& grid, const char* name, const std::string& path) {
  PTQAT_ASSERT(grid.defined() && grid.sizes() == torch::IntArrayRef(kOccShape) &&
                   (grid.scalar_type() == torch::kUInt8 || grid.scalar_type() == torch::kBool),
               "write_occ3d_labels({}): expected {} as a {} uint8 or bool tensor, got {}", path,
               name, npy_shape_text(kOccShape),
               grid.defined() ? c10::str(grid.sizes(), " ", grid.scalar_type()) : "undefined");
  return grid.to(torch::kCPU, torch::kUInt8);
}

}  // namespace

Occ3dLabels read_occ3d_labels(const std::string& path) {
  const std::map<std::string, NpyArray> arrays = read_npz(path);
  Occ3dLabels labels;
  labels.semantics = grid_member(arrays, path, "semantics", /*bool_allowed=*/false).to_tensor();
  const torch::Tensor top = labels.semantics.max();
  if (top.item<uint8_t>() > kOccFreeClass) {
    const int64_t flat = labels.semantics.flatten().argmax().item<int64_t>();
    PTQAT_FAIL(DataError, "{}:semantics: expected class ids 0..{}, got {} at voxel ({}, {}, {})",
               path, kOccFreeClass, top.item<uint8_t>(), flat / (kOccGridY * kOccGridZ),
               flat / kOccGridZ % kOccGridY, flat % kOccGridZ);
  }
  // The challenge code reads the masks with .astype(bool): any nonzero byte is true.
  labels.mask_lidar =
      grid_member(arrays, path, "mask_lidar", /*bool_allowed=*/true).to_tensor().to(torch::kBool);
  labels.mask_camera =
      grid_member(arrays, path, "mask_camera", /*bool_allowed=*/true).to_tensor().to(torch::kBool);
  return labels;
}

void write_occ3d_labels(const std::string& path, const Occ3dLabels& labels, bool compress) {
  const torch::Tensor semantics = grid_as_uint8(labels.semantics, "semantics", path);
  PTQAT_ASSERT(labels.semantics.scalar_type() == torch::kUInt8 &&
                   semantics.max().item<uint8_t>() <= kOccFreeClass,
               "write_occ3d_labels({}): expected uint8 semantics with class ids 0..{}", path,
               kOccFreeClass);
  write_npz(path,
            {{"semantics", semantics},
             {"mask_lidar", grid_as_uint8(labels.mask_lidar, "mask_lidar", path)},
             {"mask_camera", grid_as_uint8(labels.mask_camera, "mask_camera", path)}},
            compress);
}

}  // namespace ptqat::datasets
