#include "tasks/occupancy/run_length.h"

#include "core/error.h"

namespace ptqat::tasks::occupancy {

RunLength encode_runs(const torch::Tensor& grid) {
  PTQAT_ASSERT(grid.scalar_type() == torch::kUInt8, "run-length coding of a {} tensor",
               c10::toString(grid.scalar_type()));
  const torch::Tensor flat = grid.to(torch::kCPU).contiguous().reshape({-1});
  RunLength runs;
  runs.shape = grid.sizes().vec();
  const uint8_t* data = flat.data_ptr<uint8_t>();
  const int64_t size = flat.numel();
  for (int64_t i = 0; i < size;) {
    int64_t j = i + 1;
    while (j < size && data[j] == data[i]) ++j;
    runs.values.push_back(static_cast<char>(data[i]));
    runs.counts.push_back(static_cast<uint32_t>(j - i));
    i = j;
  }
  return runs;
}

torch::Tensor RunLength::decode() const {
  torch::Tensor grid = torch::empty(shape, torch::kUInt8);
  uint8_t* data = grid.data_ptr<uint8_t>();
  int64_t at = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    PTQAT_CHECK(at + counts[r] <= grid.numel(), DataError,
                "run-length grid: runs cover more than the {} values of its shape", grid.numel());
    std::fill(data + at, data + at + counts[r], static_cast<uint8_t>(values[r]));
    at += counts[r];
  }
  PTQAT_CHECK(at == grid.numel(), DataError,
              "run-length grid: runs cover {} of the {} values of its shape", at, grid.numel());
  return grid;
}

}  // namespace ptqat::tasks::occupancy
