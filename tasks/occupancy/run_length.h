#pragma once
// Run-length coding of uint8 label grids. An evaluation keeps every frame's predicted grid until
// the metric runs, and gathers them from all ranks: 640 000 bytes per Occ3D frame raw (3.9 GB
// for the 6019 val frames) but a few thousand runs once coded, since most voxels are free.

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace ptqat::tasks::occupancy {

/// A grid's values in row-major order as runs.
struct RunLength {
  std::vector<int64_t> shape;
  std::string values;            ///< one byte per run
  std::vector<uint32_t> counts;  ///< length of each run

  /// The grid back: uint8 of `shape`.
  torch::Tensor decode() const;
};

/// Codes a uint8 tensor (any shape, on the CPU).
RunLength encode_runs(const torch::Tensor& grid);

}  // namespace ptqat::tasks::occupancy
