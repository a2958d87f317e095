#pragma once
// numpy `.npy` arrays: the format numpy's np.save writes, and the members of a `.npz` archive
// (datasets/nuscenes/npz.h). nuScenes panoptic labels, Occ3D labels and occupancy predictions are stored
// this way (docs/nuscenes.md sections 3 and 8).

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ptqat::datasets {

/// One `.npy` array as stored: its numpy dtype string, shape and raw data bytes (C order unless
/// `fortran_order`). Holds any fixed-size dtype; `to_tensor` converts the supported ones.
struct NpyArray {
  std::string descr;           ///< numpy dtype string, e.g. "<f4", "|u1"
  std::vector<int64_t> shape;  ///< empty for a 0-d array
  bool fortran_order = false;
  std::vector<uint8_t> bytes;  ///< exactly prod(shape) * itemsize bytes
  /// Where the array came from ("<file>:<member>.npy"); names it in every error message.
  std::string label = "npy array";

  /// A new CPU tensor with `shape` holding a copy of the data. Supported descr: '|u1' (uint8),
  /// '|b1' (bool), '<u2' (widened to int32: LibTorch 1.13 has no uint16), '<i4', '<i8', '<f4',
  /// '<f8'. Another descr, Fortran order, or bool bytes other than 0/1 throw DataError.
  torch::Tensor to_tensor() const;
};

/// A shape as python prints a tuple, as in .npy headers and error messages: "(200, 200, 16)",
/// "(5,)", "()".
std::string npy_shape_text(const std::vector<int64_t>& shape);

/// Parses one `.npy` file image (format versions 1.0, 2.0 and 3.0). `label` names the array in
/// error messages and is stored in the result. Throws DataError for a bad magic, version or
/// header, a dtype without a fixed item size (object, structured), or a data size other than
/// prod(shape) * itemsize.
NpyArray parse_npy(const uint8_t* data, size_t size, const std::string& label);

/// The numpy dtype string `npy_image` writes for `type` ("|u1", "|b1", "<i4", "<i8", "<f4",
/// "<f8" for uint8, bool, int32, int64, float32, float64), or nullptr for any other type. The
/// pointer is to a static string.
const char* npy_descr(torch::ScalarType type);

/// A `.npy` v1.0 file image of `tensor`, byte for byte as numpy's np.save writes it. `tensor`
/// must be a contiguous CPU tensor whose type has an `npy_descr`; anything else is a bug in the
/// caller (InternalError).
std::vector<uint8_t> npy_image(const torch::Tensor& tensor);

}  // namespace ptqat::datasets
