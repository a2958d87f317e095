#pragma once
// numpy `.npy` arrays and `.npz` archives (a zip of `.npy` members), as nuScenes panoptic
// labels, Occ3D labels and occupancy predictions are stored (NUSCENES.md sections 3 and 8).
// Read through libzip; every libzip return code is checked.

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
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

/// Reads every member of a `.npz`, keyed by member name without ".npy" (`np.savez(f, data=x)`
/// gives "data"; positional arrays give "arr_0", ...). Stored and deflated members, with or
/// without zip64 extra fields (numpy writes them). Throws IoError when the file cannot be
/// opened, DataError naming the file (and member) when it is not a zip, is corrupt, holds no
/// members or a member that is not a valid `.npy`.
std::map<std::string, NpyArray> read_npz(const std::string& path);

/// Writes `arrays` as a `.npz` of `.npy` v1.0 members in the given order, as numpy does
/// (`np.savez` when `compress` is false, `np.savez_compressed` when true), creating parent
/// folders. Every entry gets the same fixed mtime, so the same input gives byte-identical files.
/// Supported dtypes: uint8, bool, int32, int64, float32, float64 (any device and layout).
/// Throws IoError when the file cannot be written; no arrays, a repeated name or an
/// unsupported dtype is a bug in the caller (InternalError).
void write_npz(const std::string& path,
               const std::vector<std::pair<std::string, torch::Tensor>>& arrays, bool compress);

}  // namespace ptqat::datasets
