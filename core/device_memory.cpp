#include "core/device_memory.h"

// Set by CMake for this file when LibTorch has CUDA (Debian's CPU LibTorch ships the c10/cuda
// headers too, but not the CUDA runtime they include).
#ifdef PTQAT_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#define PTQAT_CUDA_ALLOCATOR_STATS 1
#endif

namespace ptqat::core {

void reset_peak_device_memory([[maybe_unused]] const torch::Device& device) {
#ifdef PTQAT_CUDA_ALLOCATOR_STATS
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
}

int64_t peak_device_memory_bytes([[maybe_unused]] const torch::Device& device) {
#ifdef PTQAT_CUDA_ALLOCATOR_STATS
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    // allocated_bytes is indexed by StatType, whose namespace moved in LibTorch 2.5; AGGREGATE,
    // the sum over pool kinds, is 0 in every version.
    return stats.allocated_bytes[0].peak;
  }
#endif
  return 0;
}

}  // namespace ptqat::core
