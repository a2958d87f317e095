// Fake-quant on a GPU equals the CPU kernel: forward values and straight-through gradients, per
// tensor and per channel, with LSQ's scale gradient. Skipped without a CUDA device.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "quant/fake_quant.h"
#include "quant/quant_spec.h"

namespace ptqat::quant {
namespace {

QuantSpec spec_of(int64_t bits, bool per_channel, bool learnable) {
  QuantSpec spec;
  spec.bits = bits;
  spec.per_channel = per_channel;
  spec.axis = 0;
  spec.learnable_scale = learnable;
  return spec;
}

TEST(FakeQuantCuda, EqualsTheCpuKernelForwardAndBackward) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(0);
  for (const bool per_channel : {false, true}) {
    for (const int64_t bits : {4, 8}) {
      const QuantSpec spec = spec_of(bits, per_channel, /*learnable=*/true);
      const torch::Tensor x = torch::randn({16, 3, 5, 5}) * 2;
      const torch::Tensor scale = per_channel ? torch::rand({16}) * 0.1 + 0.01 : torch::tensor({0.07f});
      const torch::Tensor zero = torch::Tensor();
      const auto run = [&](const torch::Device& device) {
        torch::Tensor input = x.to(device).requires_grad_(true);
        torch::Tensor s = scale.to(device).requires_grad_(true);
        torch::Tensor out = fake_quantize(input, s, zero, spec);
        (out * torch::arange(out.numel(), out.options()).reshape(out.sizes())).sum().backward();
        return std::make_tuple(out.detach().cpu(), input.grad().cpu(), s.grad().cpu());
      };
      const auto [cpu_out, cpu_dx, cpu_ds] = run(torch::kCPU);
      const auto [gpu_out, gpu_dx, gpu_ds] = run(torch::Device(torch::kCUDA, 0));
      SCOPED_TRACE(::testing::Message() << bits << " bits, per channel " << per_channel);
      EXPECT_TRUE(torch::allclose(cpu_out, gpu_out, 0, 1e-6));
      EXPECT_TRUE(torch::equal(cpu_dx, gpu_dx));
      EXPECT_TRUE(torch::allclose(cpu_ds, gpu_ds, 1e-4, 1e-3));
    }
  }
}

}  // namespace
}  // namespace ptqat::quant
