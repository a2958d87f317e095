#pragma once
// numpy `.npz` archives: a zip of `.npy` members (datasets/nuscenes/npy.h), as nuScenes panoptic labels,
// Occ3D labels and occupancy predictions are stored (docs/nuscenes.md sections 3 and 8).
// Read and written through libzip; every libzip return code is checked.

#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "datasets/nuscenes/npy.h"

namespace ptqat::datasets {

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
