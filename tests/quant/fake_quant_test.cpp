#include "quant/fake_quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tests/quant/quant_spec_util.h"

namespace ptqat::quant {
namespace {

std::vector<KernelPath> kernel_paths() {
  std::vector<KernelPath> paths{KernelPath::kScalar};
  if (cpu_has_avx2_fma()) paths.push_back(KernelPath::kAvx2);
  return paths;
}

const char* path_name(KernelPath path) { return path == KernelPath::kAvx2 ? "avx2" : "scalar"; }

using test::floats;
using test::grid_spec;

// Same shape and the same bytes: stricter than torch::equal (tells -0.0 from 0.0).
::testing::AssertionResult bit_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return ::testing::AssertionFailure() << "shapes differ";
  const torch::Tensor ca = a.contiguous();
  const torch::Tensor cb = b.contiguous().to(a.scalar_type());
  if (std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0) {
    return ::testing::AssertionSuccess();
  }
  const int64_t first = (ca != cb).nonzero()[0].item<int64_t>();
  return ::testing::AssertionFailure()
         << (ca != cb).sum().item<int64_t>() << " elements differ, first at flat index " << first
         << ": " << ca.reshape(-1)[first].item<double>() << " vs "
         << cb.reshape(-1)[first].item<double>();
}

// Random values spread over the grid and past it, plus exact ties (k + 0.5) * scale.
torch::Tensor random_input(std::vector<int64_t> sizes, double spread, uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor x = torch::randn(sizes) * spread;
  torch::Tensor ties = (torch::randint(-300, 300, sizes) + 0.5) * 0.125;
  return torch::where(torch::rand(sizes) < 0.2, ties.to(torch::kFloat), x);
}

TEST(FakeQuant, RoundsHalfToEvenAndClampsAtScaleOne) {
  const torch::Tensor x =
      floats({0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.49f, 3.51f, 200.f, -200.f, 127.5f});
  const torch::Tensor expected =
      floats({0.f, 2.f, 2.f, 0.f, -2.f, -2.f, 3.f, 4.f, 127.f, -127.f, 127.f});
  for (KernelPath path : kernel_paths()) {
    SCOPED_TRACE(path_name(path));
    const auto result = cpu::forward(x, floats({1.f}), {}, QuantSpec{}, true, path);
    EXPECT_TRUE(torch::equal(result.output, expected)) << result.output;
    // 127.5 rounds to 128 (even), outside [-127, 127]: clamped, so masked.
    EXPECT_TRUE(
        torch::equal(result.mask, torch::tensor({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, torch::kUInt8)));
  }
}

TEST(FakeQuant, ZeroPointShiftsTheUnsignedGrid) {
  // scale 0.5, zero point 10, [0, 255]: 1.3 -> 2.6 -> 3 (+10 = 13) -> 1.5; -6 -> -12 + 10 = -2
  // -> clamped to 0 -> (0 - 10) * 0.5 = -5; 130 -> 270 -> 255 -> 122.5; -5.2 -> -10 + 10 = 0.
  const torch::Tensor x = floats({1.3f, -6.f, 130.f, 0.f, -5.f, -5.2f});
  const QuantSpec spec = grid_spec(8, false, false, false);
  for (KernelPath path : kernel_paths()) {
    SCOPED_TRACE(path_name(path));
    const auto result =
        cpu::forward(x, floats({0.5f}), torch::tensor({10}, torch::kInt), spec, true, path);
    EXPECT_TRUE(torch::equal(result.output, floats({1.5f, -5.f, 122.5f, 0.f, -5.f, -5.f})))
        << result.output;
    EXPECT_TRUE(torch::equal(result.mask, torch::tensor({1, 0, 0, 1, 1, 1}, torch::kUInt8)));
  }
}

TEST(FakeQuant, PerChannelAxisZeroUsesEachRowsScale) {
  // 4-bit narrow [-7, 7]. Row 0 scale 1: 0.3 -> 0, 0.6 -> 1, -2 -> -2. Row 1 scale 0.25:
  // 1.2 -> 1 -> 0.25, 2.4 -> 2 -> 0.5, -8 -> -7 -> -1.75.
  const torch::Tensor x = floats({0.3f, 0.6f, -2.f, 0.3f, 0.6f, -2.f}).reshape({2, 3});
  QuantSpec spec = grid_spec(4, true, true, true);
  spec.per_channel = true;
  spec.axis = 0;
  for (KernelPath path : kernel_paths()) {
    SCOPED_TRACE(path_name(path));
    const auto out = cpu::forward(x, floats({1.f, 0.25f}), {}, spec, false, path).output;
    EXPECT_TRUE(torch::equal(out, floats({0.f, 1.f, -2.f, 0.25f, 0.5f, -1.75f}).reshape({2, 3})))
        << out;
  }
}

TEST(FakeQuant, PerChannelAxisOneUsesEachColumnsScale) {
  // [2, 2, 2], axis 1 scales {1, 0.5}, 4-bit narrow. Channel 0: 0.4 -> 0, 1.6 -> 2, -2.5 -> -2
  // (half to even), 9 -> 7. Channel 1: 0.8 -> 1 -> 0.5, 3.2 -> 3 -> 1.5, -5 -> -2.5, 18 -> 7
  // -> 3.5.
  const torch::Tensor x =
      floats({0.4f, 1.6f, 0.4f, 1.6f, -2.5f, 9.f, -2.5f, 9.f}).reshape({2, 2, 2});
  const torch::Tensor expected =
      floats({0.f, 2.f, 0.5f, 1.5f, -2.f, 7.f, -2.5f, 3.5f}).reshape({2, 2, 2});
  QuantSpec spec = grid_spec(4, true, true, true);
  spec.per_channel = true;
  spec.axis = 1;
  for (KernelPath path : kernel_paths()) {
    SCOPED_TRACE(path_name(path));
    const auto out = cpu::forward(x, floats({1.f, 0.5f}), {}, spec, false, path).output;
    EXPECT_TRUE(torch::equal(out, expected)) << out;
  }
}

struct PerTensorCase {
  QuantSpec spec;
  float scale;
  int64_t zero_point;
};

TEST(FakeQuant, PerTensorEqualsAtenBitForBit) {
  const std::vector<PerTensorCase> cases = {
      {grid_spec(8, true, true, true), 0.0173f, 0},
      {grid_spec(8, true, true, true), 0.125f, 0},  // many exact ties
      {grid_spec(4, true, true, false), 0.31f, 0},
      {grid_spec(8, false, false, false), 0.05f, 37},
      {grid_spec(6, false, true, false), 0.1f, -3},
      {grid_spec(16, true, true, true), 0.0007f, 0},
  };
  // Odd sizes: vector tails; the second spans several 32K-element pieces (threads).
  for (const std::vector<int64_t>& sizes :
       {std::vector<int64_t>{3, 37, 11, 13}, std::vector<int64_t>{5, 40009}}) {
    const torch::Tensor x = random_input(sizes, 3.0, 1);
    for (const PerTensorCase& c : cases) {
      const auto [ref, ref_mask] = at::fake_quantize_per_tensor_affine_cachemask(
          x, c.scale, c.zero_point, c.spec.quant_min(), c.spec.quant_max());
      for (KernelPath path : kernel_paths()) {
        SCOPED_TRACE(::testing::Message() << path_name(path) << " bits " << c.spec.bits << " scale "
                                          << c.scale << " numel " << x.numel());
        const auto ours = cpu::forward(
            x, floats({c.scale}), torch::tensor({c.zero_point}, torch::kInt), c.spec, true, path);
        EXPECT_TRUE(bit_equal(ours.output, ref));
        EXPECT_TRUE(torch::equal(ours.mask.to(torch::kBool), ref_mask));
      }
    }
  }
}

TEST(FakeQuant, PerChannelEqualsAtenBitForBit) {
  struct Case {
    std::vector<int64_t> sizes;
    int64_t axis;
    bool symmetric;
  };
  const std::vector<Case> cases = {
      {{7, 3, 5, 3}, 0, true},  {{3, 7, 5, 3}, 1, true}, {{7, 3, 5, 3}, 0, false},
      {{2, 3, 40001}, 1, true}, {{13, 1}, 0, false},     {{5, 3, 7}, 2, true},
  };
  for (const Case& c : cases) {
    QuantSpec spec = grid_spec(8, c.symmetric, true, c.symmetric);
    spec.per_channel = true;
    spec.axis = c.axis;
    const torch::Tensor x = random_input(c.sizes, 2.0, 2);
    const int64_t channels = c.sizes[c.axis];
    torch::manual_seed(3);
    const torch::Tensor scale = torch::rand({channels}) * 0.09 + 0.01;
    const torch::Tensor zero_point = c.symmetric ? torch::zeros({channels}, torch::kInt)
                                                 : torch::randint(-20, 20, {channels}, torch::kInt);
    const auto [ref, ref_mask] = at::fake_quantize_per_channel_affine_cachemask(
        x, scale, zero_point, c.axis, spec.quant_min(), spec.quant_max());
    for (KernelPath path : kernel_paths()) {
      SCOPED_TRACE(::testing::Message()
                   << path_name(path) << " axis " << c.axis << " sizes " << x.sizes());
      const auto ours = cpu::forward(x, scale, zero_point, spec, true, path);
      EXPECT_TRUE(bit_equal(ours.output, ref));
      EXPECT_TRUE(torch::equal(ours.mask.to(torch::kBool), ref_mask));
    }
  }
}

TEST(FakeQuant, NonContiguousInputEqualsAten) {
  const torch::Tensor x = random_input({37, 19}, 2.0, 4).t();
  const torch::Tensor ref = at::fake_quantize_per_tensor_affine(x, 0.02, 0, -127, 127);
  EXPECT_TRUE(bit_equal(fake_quantize(x, floats({0.02f}), {}, QuantSpec{}), ref));
}

TEST(FakeQuant, DoubleInputFallsBackToAten) {
  const torch::Tensor x = random_input({3, 7}, 2.0, 5).to(torch::kDouble);
  const torch::Tensor ref = at::fake_quantize_per_tensor_affine(x, 0.02, 0, -127, 127);
  EXPECT_TRUE(bit_equal(fake_quantize(x, floats({0.02f}), {}, QuantSpec{}), ref));
}

TEST(FakeQuant, StraightThroughGradientIsUpstreamGradientWhereNotClamped) {
  const QuantSpec spec = grid_spec(8, false, false, false);
  for (KernelPath path : kernel_paths()) {
    SCOPED_TRACE(path_name(path));
    // As ZeroPointShiftsTheUnsignedGrid: the 2nd and 3rd inputs are clamped.
    const torch::Tensor x = floats({1.3f, -6.f, 130.f, 0.f, -5.f, -5.2f}).requires_grad_();
    const torch::Tensor scale = floats({0.5f}).requires_grad_();
    const torch::Tensor y =
        fake_quantize(x, scale, torch::tensor({10}, torch::kInt), spec, 1.0, path);
    y.backward(floats({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}));
    EXPECT_TRUE(torch::equal(x.grad(), floats({1.f, 0.f, 0.f, 4.f, 5.f, 6.f}))) << x.grad();
    EXPECT_FALSE(scale.grad().defined()) << "a fixed scale must get no gradient";
  }
}

TEST(FakeQuant, StraightThroughGradientEqualsAten) {
  const torch::Tensor x0 = random_input({3, 37, 11, 13}, 3.0, 6);
  const torch::Tensor g = torch::randn_like(x0);
  const torch::Tensor xa = x0.clone().requires_grad_();
  at::fake_quantize_per_tensor_affine(xa, 0.0173, 0, -127, 127).backward(g);
  for (KernelPath path : kernel_paths()) {
    SCOPED_TRACE(path_name(path));
    const torch::Tensor x = x0.clone().requires_grad_();
    fake_quantize(x, floats({0.0173f}), {}, QuantSpec{}, 1.0, path).backward(g);
    EXPECT_TRUE(bit_equal(x.grad(), xa.grad()));
  }
}

// Both gradients of ours against ATen's learnable-scale operator (the LSQ reference).
void expect_lsq_matches_aten(const torch::Tensor& x0, const torch::Tensor& scale0,
                             const torch::Tensor& zero_point, const QuantSpec& spec) {
  const torch::Tensor g = torch::randn_like(x0);
  const double factor = lsq_grad_factor(x0.numel(), spec);
  const torch::Tensor xa = x0.clone().requires_grad_();
  const torch::Tensor sa = scale0.clone().requires_grad_();
  const torch::Tensor za = zero_point.to(torch::kFloat);
  const torch::Tensor ya =
      spec.per_channel ? at::_fake_quantize_learnable_per_channel_affine(
                             xa, sa, za, spec.axis, spec.quant_min(), spec.quant_max(), factor)
                       : at::_fake_quantize_learnable_per_tensor_affine(
                             xa, sa, za, spec.quant_min(), spec.quant_max(), factor);
  ya.backward(g);
  for (KernelPath path : kernel_paths()) {
    SCOPED_TRACE(::testing::Message() << path_name(path) << " per_channel " << spec.per_channel
                                      << " axis " << spec.axis);
    const torch::Tensor x = x0.clone().requires_grad_();
    const torch::Tensor s = scale0.clone().requires_grad_();
    const torch::Tensor y = fake_quantize(x, s, zero_point, spec, factor, path);
    EXPECT_TRUE(bit_equal(y, ya.detach()));
    y.backward(g);
    EXPECT_TRUE(bit_equal(x.grad(), xa.grad()));
    ASSERT_TRUE(s.grad().defined());
    ASSERT_EQ(s.grad().sizes(), sa.grad().sizes());
    // ATen sums in float, we in double: compare within float tolerance, with a floor for
    // channels whose sum nearly cancels.
    const torch::Tensor ours = s.grad().to(torch::kDouble);
    const torch::Tensor ref = sa.grad().to(torch::kDouble);
    const double floor = 1e-4 * ref.abs().max().item<double>();
    EXPECT_TRUE(torch::all((ours - ref).abs() <= ref.abs() * 1e-4 + floor).item<bool>())
        << "ours " << ours << "\nATen " << ref;
  }
}

TEST(FakeQuant, LsqGradientsMatchAtenPerTensor) {
  QuantSpec spec;
  spec.learnable_scale = true;
  expect_lsq_matches_aten(random_input({3, 37, 11, 13}, 3.0, 7), floats({0.0173f}),
                          torch::zeros({1}, torch::kInt), spec);
  QuantSpec affine = grid_spec(8, false, false, false);
  affine.learnable_scale = true;
  expect_lsq_matches_aten(random_input({5, 40009}, 3.0, 8), floats({0.03f}),
                          torch::tensor({60}, torch::kInt), affine);
}

TEST(FakeQuant, LsqGradientsMatchAtenPerChannel) {
  for (int64_t axis : {0, 1}) {
    QuantSpec spec = grid_spec(4, true, true, true);
    spec.learnable_scale = true;
    spec.per_channel = true;
    spec.axis = axis;
    torch::manual_seed(9);
    const torch::Tensor scale = torch::rand({7}) * 0.2 + 0.05;
    const std::vector<int64_t> sizes =
        axis == 0 ? std::vector<int64_t>{7, 5, 3, 3} : std::vector<int64_t>{5, 7, 3, 3};
    expect_lsq_matches_aten(random_input(sizes, 1.0, 10), scale, torch::zeros({7}, torch::kInt),
                            spec);
  }
}

TEST(FakeQuant, LsqGradientsMatchFiniteDifferencesOfTheSurrogate) {
  // Esser et al. 2020: the rounding passes gradients straight through, so the function LSQ
  // differentiates is f(s) = s * clamp(x/s + c, qmin, qmax) with c = round(x/s0) - x/s0 held
  // fixed. Its central difference at s0 must equal the LSQ scale gradient (grad factor 1).
  const std::vector<double> x = {0.31, -0.77, 1.26, 3.9, -4.4, 0.05};
  const std::vector<double> g = {1.0, -2.0, 0.5, 1.5, -1.0, 3.0};
  const double s0 = 0.5;
  QuantSpec spec = grid_spec(4, true, true, true);  // [-7, 7]: 3.9 and -4.4 are clamped
  spec.learnable_scale = true;
  auto loss = [&](double s, const std::vector<double>& xs) {
    double total = 0.0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double c = std::nearbyint(x[i] / s0) - x[i] / s0;
      const double q =
          std::clamp(xs[i] / s + c, double(spec.quant_min()), double(spec.quant_max()));
      total += g[i] * s * q;
    }
    return total;
  };
  const double h = 1e-6;
  const double fd_scale = (loss(s0 + h, x) - loss(s0 - h, x)) / (2 * h);
  for (KernelPath path : kernel_paths()) {
    SCOPED_TRACE(path_name(path));
    const torch::Tensor xt = torch::tensor(x, torch::kDouble).to(torch::kFloat).requires_grad_();
    const torch::Tensor st = floats({0.5f}).requires_grad_();
    fake_quantize(xt, st, {}, spec, 1.0, path)
        .backward(torch::tensor(g, torch::kDouble).to(torch::kFloat));
    EXPECT_NEAR(st.grad().item<double>(), fd_scale, 1e-4 * std::abs(fd_scale) + 1e-5);
    for (size_t i = 0; i < x.size(); ++i) {
      std::vector<double> up = x, down = x;
      up[i] += h;
      down[i] -= h;
      const double fd_x = (loss(s0, up) - loss(s0, down)) / (2 * h);
      EXPECT_NEAR(xt.grad()[i].item<double>(), fd_x, 1e-4) << "element " << i;
    }
  }
}

TEST(FakeQuant, LsqGradFactorIsInverseSqrtOfNumelTimesQmax) {
  QuantSpec spec;
  EXPECT_DOUBLE_EQ(lsq_grad_factor(1000, spec), 1.0 / std::sqrt(1000.0 * 127.0));
  spec.lsq_grad_scaling = false;
  EXPECT_EQ(lsq_grad_factor(1000, spec), 1.0);
}

TEST(FakeQuant, DefaultGradFactorScalesTheScaleGradient) {
  QuantSpec spec;
  spec.learnable_scale = true;
  const torch::Tensor x0 = random_input({101}, 1.0, 11);
  auto scale_grad = [&](bool scaled) {
    spec.lsq_grad_scaling = scaled;
    const torch::Tensor s = floats({0.01f}).requires_grad_();
    fake_quantize(x0, s, {}, spec).sum().backward();
    return s.grad().item<double>();
  };
  const double unscaled = scale_grad(false);
  EXPECT_NEAR(scale_grad(true), unscaled / std::sqrt(101.0 * 127.0), 1e-5 * std::abs(unscaled));
}

TEST(FakeQuant, ScalarAndAvx2PathsAgree) {
  if (!cpu_has_avx2_fma()) GTEST_SKIP() << "CPU lacks AVX2+FMA";
  QuantSpec spec = grid_spec(8, false, false, false);
  const torch::Tensor x = random_input({100003}, 3.0, 12);
  const torch::Tensor s = floats({0.03f});
  const torch::Tensor z = torch::tensor({100}, torch::kInt);
  const auto a = cpu::forward(x, s, z, spec, true, KernelPath::kScalar);
  const auto b = cpu::forward(x, s, z, spec, true, KernelPath::kAvx2);
  EXPECT_TRUE(bit_equal(a.output, b.output));
  EXPECT_TRUE(torch::equal(a.mask, b.mask));
  const torch::Tensor g = torch::randn_like(x);
  const auto la = cpu::lsq_backward(g, x, s, z, spec, 0.01, KernelPath::kScalar);
  const auto lb = cpu::lsq_backward(g, x, s, z, spec, 0.01, KernelPath::kAvx2);
  EXPECT_TRUE(bit_equal(la.grad_input, lb.grad_input));
  EXPECT_NEAR(la.grad_scale.item<double>(), lb.grad_scale.item<double>(),
              1e-6 * std::abs(la.grad_scale.item<double>()));
}

TEST(FakeQuant, ChannelAxisBeyondTheTensorIsConfigError) {
  QuantSpec spec;
  spec.per_channel = true;
  spec.axis = 2;
  EXPECT_THROW(fake_quantize(torch::ones({3, 4}), torch::ones({4}), {}, spec), ConfigError);
}

TEST(FakeQuant, InvalidSpecIsConfigError) {
  QuantSpec spec;
  spec.bits = 1;
  EXPECT_THROW(fake_quantize(torch::ones({3}), floats({1.f}), {}, spec), ConfigError);
}

TEST(FakeQuant, ScaleOfWrongLengthIsInternalError) {
  QuantSpec spec;
  spec.per_channel = true;
  EXPECT_THROW(fake_quantize(torch::ones({3, 4}), torch::ones({4}), {}, spec), InternalError);
}

TEST(FakeQuant, ZeroPointOutsideTheGridIsInternalError) {
  const QuantSpec spec = grid_spec(8, false, false, false);
  EXPECT_THROW(fake_quantize(torch::ones({3}), floats({1.f}), torch::tensor({256}), spec),
               InternalError);
}

TEST(FakeQuant, ForcingAvx2WithoutItThrows) {
  if (cpu_has_avx2_fma()) GTEST_SKIP() << "CPU has AVX2+FMA";
  EXPECT_THROW(
      cpu::forward(torch::ones({3}), floats({1.f}), {}, QuantSpec{}, false, KernelPath::kAvx2),
      Error);
}

}  // namespace
}  // namespace ptqat::quant
