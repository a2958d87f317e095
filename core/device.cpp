#include "core/device.h"

#include "core/error.h"

namespace ptqat::core {

torch::Device resolve_device(DeviceSetting setting, int local_rank) {
  const bool have_gpu = torch::cuda::is_available();
  if (setting == DeviceSetting::kCpu || (setting == DeviceSetting::kAuto && !have_gpu)) {
    return torch::kCPU;
  }
  PTQAT_CHECK(
      have_gpu, ConfigError,
      "runtime.device: expected a visible CUDA device for 'cuda', found none (this LibTorch "
      "build {} CUDA)",
      torch::cuda::is_available() ? "has" : "may lack");
  const auto count = static_cast<int>(torch::cuda::device_count());
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % count));
}

}  // namespace ptqat::core
