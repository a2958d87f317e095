#pragma once
// Peak GPU memory of a stage, from LibTorch's CUDA caching allocator (what
// torch.cuda.max_memory_allocated reports). Built against a CUDA LibTorch only; with the CPU
// LibTorch both functions do nothing and report 0.

#include <torch/torch.h>

#include <cstdint>

namespace ptqat::core {

/// Starts a new peak on `device` (nothing on the CPU).
void reset_peak_device_memory(const torch::Device& device);

/// Bytes of tensors allocated on `device` at their peak since the last reset; 0 on the CPU.
int64_t peak_device_memory_bytes(const torch::Device& device);

}  // namespace ptqat::core
