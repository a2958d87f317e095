#include "core/device.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace ptqat::core {

TEST(Device, CpuSettingAlwaysGivesCpu) {
  EXPECT_EQ(resolve_device(DeviceSetting::kCpu, 3), torch::Device(torch::kCPU));
}

TEST(Device, AutoFollowsVisibleGpus) {
  const torch::Device device = resolve_device(DeviceSetting::kAuto, 1);
  if (torch::cuda::is_available()) {
    EXPECT_TRUE(device.is_cuda());
    EXPECT_EQ(device.index(), 1 % static_cast<int>(torch::cuda::device_count()));
  } else {
    EXPECT_TRUE(device.is_cpu());
  }
}

TEST(Device, CudaWithoutGpuIsAConfigError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible";
  EXPECT_THROW(resolve_device(DeviceSetting::kCuda), ConfigError);
}

}  // namespace ptqat::core
