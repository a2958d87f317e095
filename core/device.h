#pragma once
// The `device` setting (auto | cpu | cuda) and its resolution to a torch::Device.

#include <torch/torch.h>

namespace ptqat::core {

enum class DeviceSetting { kAuto, kCpu, kCuda };

/// auto: cuda:<local_rank mod visible GPUs> when LibTorch sees a GPU, else cpu.
/// cuda: the same GPU choice, and a ConfigError when no GPU is visible.
torch::Device resolve_device(DeviceSetting setting, int local_rank = 0);

}  // namespace ptqat::core
