// Fake-quant forward+backward throughput: ptqat's fused CPU kernel (quant/fake_quant.h) vs
// calling ATen's operators directly, per tensor and per channel, straight-through (fixed scale)
// and LSQ (learnable scale). Arguments: threads (0 = ATen's default) and the tensor: 0 = a
// 67 MB [256, 64, 32, 32] (per channel: axis 0, 256 channels), 1 = an 8 MB activation of the
// bench step network [2, 64, 128, 128] (2 channels on axis 0).
//
// bytes_per_second counts the same nominal traffic for both implementations, the least a
// fused kernel must move, so the columns compare directly and against BM_Copy (memory
// bandwidth): straight-through 18 B/element (forward reads x, writes y and a 1-byte mask;
// backward reads dy and the mask, writes dx), LSQ 20 B/element (forward reads x, writes y;
// backward reads x and dy, writes dx).
//
// On a GPU (BM_FakeQuantCuda, BM_CopyCuda; skipped without one): ptqat's fake-quant
// forward+backward on a CUDA tensor of the large shape, against a device-to-device copy of the
// same tensor, each iteration synchronized; the same nominal bytes, so the ratio of the
// bytes_per_second columns is the fraction of copy bandwidth fake-quant reaches.
//
// The heap keeps freed blocks (core::keep_freed_memory_in_heap, as the ptqat executable does), so
// fresh outputs do not pay first-touch page faults; PTQAT_DEFAULT_ALLOCATOR=1 measures glibc's
// default instead.

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "core/resources.h"
#include "quant/fake_quant.h"

namespace {

using namespace ptqat;

const std::vector<int64_t>& shape_of(const benchmark::State& state) {
  static const std::vector<int64_t> kLarge = {256, 64, 32, 32};
  static const std::vector<int64_t> kActivation = {2, 64, 128, 128};
  return state.range(1) == 0 ? kLarge : kActivation;
}

struct Variant {
  bool ours;
  bool per_channel;
  bool learnable;
};

void set_threads(const benchmark::State& state) {
  static const int default_threads = at::get_num_threads();
  at::set_num_threads(state.range(0) > 0 ? static_cast<int>(state.range(0)) : default_threads);
}

void BM_FakeQuant(benchmark::State& state, Variant variant) {
  set_threads(state);
  const std::vector<int64_t>& kShape = shape_of(state);
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn(kShape).requires_grad_();
  const torch::Tensor grad = torch::randn(kShape);
  quant::QuantSpec spec;
  spec.per_channel = variant.per_channel;
  spec.learnable_scale = variant.learnable;
  const int64_t channels = variant.per_channel ? kShape[0] : 1;
  const torch::Tensor scale = torch::full({channels}, 0.02f).requires_grad_(variant.learnable);
  const torch::Tensor zero_point = torch::zeros({channels}, torch::kInt);
  const torch::Tensor zero_point_f = zero_point.to(torch::kFloat);
  const double factor = quant::lsq_grad_factor(x.numel(), spec);
  const int64_t qmin = spec.quant_min();
  const int64_t qmax = spec.quant_max();
  auto forward = [&]() -> torch::Tensor {
    if (variant.ours) return quant::fake_quantize(x, scale, zero_point, spec);
    if (variant.learnable) {
      return variant.per_channel ? at::_fake_quantize_learnable_per_channel_affine(
                                       x, scale, zero_point_f, 0, qmin, qmax, factor)
                                 : at::_fake_quantize_learnable_per_tensor_affine(
                                       x, scale, zero_point_f, qmin, qmax, factor);
    }
    return variant.per_channel
               ? at::fake_quantize_per_channel_affine(x, scale, zero_point, 0, qmin, qmax)
               : at::fake_quantize_per_tensor_affine(x, 0.02, 0, qmin, qmax);
  };
  std::vector<torch::Tensor> inputs = {x};
  if (variant.learnable) inputs.push_back(scale);
  for (auto _ : state) {
    const torch::Tensor y = forward();
    // autograd::grad rather than backward(): no accumulation pass into x.grad.
    auto grads = torch::autograd::grad({y}, inputs, {grad});
    benchmark::DoNotOptimize(grads[0].data_ptr());
  }
  const int64_t bytes_per_element = variant.learnable ? 20 : 18;
  state.SetBytesProcessed(state.iterations() * x.numel() * bytes_per_element);
}

// Memory-bandwidth reference: y.copy_(x) reads 4 and writes 4 bytes per element.
void BM_Copy(benchmark::State& state) {
  set_threads(state);
  const std::vector<int64_t>& kShape = shape_of(state);
  const torch::Tensor x = torch::randn(kShape);
  torch::Tensor y = torch::empty_like(x);
  for (auto _ : state) {
    y.copy_(x);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * 8);
}

// As BM_Copy into a fresh tensor each time, like every op's output (with the default allocator,
// glibc serves blocks this large with mmap, so each iteration also pays first-touch page faults).
void BM_CopyToNewTensor(benchmark::State& state) {
  set_threads(state);
  const std::vector<int64_t>& kShape = shape_of(state);
  const torch::Tensor x = torch::randn(kShape);
  for (auto _ : state) {
    torch::Tensor y = x.clone();
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * 8);
}

bool skip_without_gpu(benchmark::State& state) {
  if (torch::cuda::is_available()) return false;
  state.SkipWithError("no CUDA device");
  return true;
}

void BM_FakeQuantCuda(benchmark::State& state, Variant variant) {
  if (skip_without_gpu(state)) return;
  const torch::Device device(torch::kCUDA, 0);
  const std::vector<int64_t> shape = {256, 64, 32, 32};
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn(shape, device).requires_grad_();
  const torch::Tensor grad = torch::randn(shape, device);
  quant::QuantSpec spec;
  spec.per_channel = variant.per_channel;
  spec.learnable_scale = variant.learnable;
  const int64_t channels = variant.per_channel ? shape[0] : 1;
  const torch::Tensor scale =
      torch::full({channels}, 0.02f, torch::TensorOptions(device)).requires_grad_(variant.learnable);
  const torch::Tensor zero_point = torch::zeros({channels}, torch::TensorOptions(device).dtype(torch::kInt));
  std::vector<torch::Tensor> inputs = {x};
  if (variant.learnable) inputs.push_back(scale);
  for (auto _ : state) {
    const torch::Tensor y = quant::fake_quantize(x, scale, zero_point, spec);
    auto grads = torch::autograd::grad({y}, inputs, {grad});
    torch::cuda::synchronize();
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * (variant.learnable ? 20 : 18));
}

void BM_CopyCuda(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const torch::Device device(torch::kCUDA, 0);
  const torch::Tensor x = torch::randn({256, 64, 32, 32}, device);
  torch::Tensor y = torch::empty_like(x);
  for (auto _ : state) {
    y.copy_(x);
    torch::cuda::synchronize();
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * 8);
}

BENCHMARK_CAPTURE(BM_FakeQuantCuda, per_tensor_ste, Variant{true, false, false})->UseRealTime();
BENCHMARK_CAPTURE(BM_FakeQuantCuda, per_channel_ste, Variant{true, true, false})->UseRealTime();
BENCHMARK_CAPTURE(BM_FakeQuantCuda, per_channel_lsq, Variant{true, true, true})->UseRealTime();
BENCHMARK(BM_CopyCuda)->UseRealTime();

#define PTQAT_FQ_BENCH(name, ...)                             \
  BENCHMARK_CAPTURE(BM_FakeQuant, name, Variant{__VA_ARGS__}) \
      ->ArgsProduct({{1, 0}, {0, 1}})                         \
      ->ArgNames({"threads", "small"})                        \
      ->UseRealTime()                                         \
      ->Unit(benchmark::kMillisecond)

PTQAT_FQ_BENCH(per_tensor_ste_ours, true, false, false);
PTQAT_FQ_BENCH(per_tensor_ste_aten, false, false, false);
PTQAT_FQ_BENCH(per_channel_ste_ours, true, true, false);
PTQAT_FQ_BENCH(per_channel_ste_aten, false, true, false);
PTQAT_FQ_BENCH(per_tensor_lsq_ours, true, false, true);
PTQAT_FQ_BENCH(per_tensor_lsq_aten, false, false, true);
PTQAT_FQ_BENCH(per_channel_lsq_ours, true, true, true);
PTQAT_FQ_BENCH(per_channel_lsq_aten, false, true, true);
BENCHMARK(BM_CopyToNewTensor)
    ->ArgsProduct({{1, 0}, {0, 1}})
    ->ArgNames({"threads", "small"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Copy)
    ->ArgsProduct({{1, 0}, {0, 1}})
    ->ArgNames({"threads", "small"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (!std::getenv("PTQAT_DEFAULT_ALLOCATOR")) ptqat::core::keep_freed_memory_in_heap();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
