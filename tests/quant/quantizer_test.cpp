#include "quant/quantizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "quant/fake_quant.h"

namespace ptqat::quant {
namespace {

QuantSpec make_spec(int64_t bits, bool symmetric, bool is_signed, bool per_channel = false,
                    int64_t axis = 0) {
  QuantSpec spec;
  spec.bits = bits;
  spec.symmetric = symmetric;
  spec.is_signed = is_signed;
  spec.per_channel = per_channel;
  spec.axis = axis;
  return spec;
}

/// The codes computed element by element in C++ float arithmetic, independently of ATen:
/// clamp(nearbyint(x * (1.0f / scale)) + zero_point, qmin, qmax).
torch::Tensor reference_codes(const torch::Tensor& x, const torch::Tensor& scale,
                              const torch::Tensor& zero_point, const QuantSpec& spec) {
  const torch::Tensor input = x.contiguous();
  const torch::Tensor s = scale.contiguous();
  const torch::Tensor z = zero_point.to(torch::kInt).contiguous();
  int64_t inner = 1;
  for (int64_t d = spec.axis + 1; d < x.dim(); ++d) inner *= x.size(d);
  const int64_t channels = spec.per_channel ? x.size(spec.axis) : 1;
  torch::Tensor codes = torch::empty(x.sizes(), torch::kInt);
  const float* in = input.data_ptr<float>();
  int32_t* out = codes.data_ptr<int32_t>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = spec.per_channel ? (i / inner) % channels : 0;
    const float inv = 1.0f / s.data_ptr<float>()[c];
    const float zp = static_cast<float>(z.data_ptr<int32_t>()[c]);
    const float q = std::nearbyint(in[i] * inv) + zp;
    out[i] = static_cast<int32_t>(
        std::clamp(q, static_cast<float>(spec.quant_min()), static_cast<float>(spec.quant_max())));
  }
  return codes;
}

/// Random values across and beyond the grid, a fifth of them exact ties (k + 0.5) * scale.
torch::Tensor random_input(const std::vector<int64_t>& sizes, const torch::Tensor& scale_like) {
  torch::Tensor x = torch::randn(sizes) * 3.0;
  torch::Tensor ties = (torch::randint(-40, 40, sizes) + 0.5) * scale_like;
  return torch::where(torch::rand(sizes) < 0.2, ties.to(torch::kFloat), x);
}

TEST(Quantizer, HandComputedCodesAndValues) {
  // Unsigned 4 bits [0, 15], scale 0.5, zero point 3.
  Quantizer quantizer(make_spec(4, false, false), ObserverKind::kMinMax, ObserverOptions{}, 1);
  quantizer->set_params(torch::tensor({0.5f}), torch::tensor({3}, torch::kInt));
  const torch::Tensor x = torch::tensor({-2.0f, -1.75f, 0.25f, 0.75f, 10.0f});
  // x / 0.5 = -4, -3.5 (-> -4, half to even), 0.5 (-> 0), 1.5 (-> 2), 20; + 3; clamp to [0, 15].
  const torch::Tensor codes = quantizer->quantize_to_integers(x);
  EXPECT_TRUE(torch::equal(codes, torch::tensor({0, 0, 3, 5, 15}, torch::kInt)));
  EXPECT_EQ(codes.scalar_type(), torch::kInt);
  EXPECT_TRUE(torch::equal(quantizer->forward(x), torch::tensor({-1.5f, -1.5f, 0.0f, 1.0f, 6.0f})));
}

TEST(Quantizer, IntegerCodesReproduceTheKernelBitForBit) {
  torch::manual_seed(3);
  struct Case {
    QuantSpec spec;
    std::vector<int64_t> sizes;
  };
  const std::vector<Case> cases = {
      {make_spec(8, false, false), {3, 5, 7, 9}},
      {make_spec(4, true, true), {2, 33, 17}},
      {make_spec(4, true, true, true, 0), {6, 3, 3, 3}},
      {make_spec(6, true, true, true, 1), {4, 5, 3, 3}},
      {make_spec(8, false, true, true, 1), {3, 7, 11}},
      {make_spec(3, false, false, true, 2), {2, 3, 4, 5}},
  };
  for (const Case& c : cases) {
    const int64_t channels = c.spec.per_channel ? c.sizes[static_cast<size_t>(c.spec.axis)] : 1;
    Quantizer quantizer(c.spec, ObserverKind::kMinMax, ObserverOptions{}, channels);
    const torch::Tensor scale = torch::rand({channels}) * 0.3 + 0.02;
    torch::Tensor zero_point = torch::zeros({channels}, torch::kInt);
    if (!c.spec.symmetric) {
      zero_point =
          torch::randint(c.spec.quant_min(), c.spec.quant_max() + 1, {channels}, torch::kInt);
    }
    quantizer->set_params(scale, zero_point);
    std::vector<int64_t> shape(c.sizes.size(), 1);
    if (c.spec.per_channel) shape[static_cast<size_t>(c.spec.axis)] = channels;
    const torch::Tensor x = random_input(c.sizes, scale.reshape(shape));

    const torch::Tensor codes = quantizer->quantize_to_integers(x);
    EXPECT_TRUE(torch::equal(codes, reference_codes(x, scale, zero_point, c.spec)))
        << "bits " << c.spec.bits << " axis " << c.spec.axis;
    const torch::Tensor dequantized =
        (codes.to(torch::kFloat) - zero_point.to(torch::kFloat).reshape(shape)) *
        scale.reshape(shape);
    EXPECT_TRUE(torch::equal(dequantized, quantizer->forward(x)))
        << "bits " << c.spec.bits << " axis " << c.spec.axis;
    EXPECT_TRUE(torch::equal(dequantized, quantizer->forward_fixed(x)));
  }
}

TEST(Quantizer, ConfigureResizesAndDropsCalibration) {
  Quantizer quantizer(make_spec(8, true, true), ObserverKind::kMinMax, ObserverOptions{}, 1);
  quantizer->set_params(torch::tensor({0.1f}), torch::tensor({0}, torch::kInt));
  ASSERT_TRUE(quantizer->calibrated());
  quantizer->configure(make_spec(4, false, false, true, 1), ObserverKind::kMinMax,
                       ObserverOptions{}, 5);
  EXPECT_EQ(quantizer->spec().bits, 4);
  EXPECT_EQ(quantizer->scale().sizes(), torch::IntArrayRef({5}));
  EXPECT_EQ(quantizer->zero_point().sizes(), torch::IntArrayRef({5}));
  EXPECT_EQ(quantizer->zero_point().scalar_type(), torch::kInt);
  EXPECT_FALSE(quantizer->calibrated());
  // The module's registered tensors are the resized ones (what torch::save writes).
  EXPECT_EQ(quantizer->named_parameters()["scale"].numel(), 5);
  EXPECT_EQ(quantizer->named_buffers()["zero_point"].numel(), 5);
  EXPECT_THROW(quantizer->forward(torch::ones({2, 5})), Error);
}

TEST(Quantizer, CalibrationSetsTheMinMaxScale) {
  core::SingleProcessCollective group;
  Quantizer quantizer(make_spec(8, true, true), ObserverKind::kMinMax, ObserverOptions{}, 1);
  EXPECT_THROW(quantizer->finish_calibration(group), Error);  // nothing observed
  quantizer->observe(torch::tensor({-1.0f, 0.5f}));
  quantizer->observe(torch::tensor({3.0f, 2.0f}));
  quantizer->finish_calibration(group);
  EXPECT_TRUE(quantizer->calibrated());
  // Symmetric narrow 8 bits: max |x| / 127.
  EXPECT_FLOAT_EQ(quantizer->scale().item<float>(), 3.0f / 127.0f);
  EXPECT_EQ(quantizer->zero_point().item<int32_t>(), 0);
  // A second calibration starts from fresh statistics.
  quantizer->observe(torch::tensor({0.5f}));
  quantizer->finish_calibration(group);
  EXPECT_FLOAT_EQ(quantizer->scale().item<float>(), 0.5f / 127.0f);
}

TEST(Quantizer, LsqScaleGradientOnlyWhenTrainable) {
  QuantSpec spec = make_spec(4, true, true);
  spec.learnable_scale = true;
  Quantizer quantizer(spec, ObserverKind::kMinMax, ObserverOptions{}, 1);
  const float scale = 0.3f;
  quantizer->set_params(torch::tensor({scale}), torch::tensor({0}, torch::kInt));
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({64}) * 2.0;
  EXPECT_FALSE(quantizer->scale().requires_grad());  // not trainable until told

  quantizer->set_trainable(true);
  ASSERT_TRUE(quantizer->scale().requires_grad());
  quantizer->forward(x).sum().backward();
  ASSERT_TRUE(quantizer->scale().grad().defined());
  // Esser et al. 2020, eq. 3, dL/dy = 1: round(x/s) - x/s inside the grid, the bound outside,
  // times 1/sqrt(numel * qmax).
  double expected = 0;
  const auto xs = x.accessor<float, 1>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = xs[i] / scale;
    const double q = std::nearbyint(v);
    expected += q < spec.quant_min()   ? spec.quant_min()
                : q > spec.quant_max() ? spec.quant_max()
                                       : q - v;
  }
  expected /= std::sqrt(64.0 * spec.quant_max());
  EXPECT_NEAR(quantizer->scale().grad().item<double>(), expected, 1e-4 * std::abs(expected));

  quantizer->scale().mutable_grad() = torch::Tensor();
  quantizer->set_trainable(false);
  EXPECT_FALSE(quantizer->scale().requires_grad());
  torch::Tensor input = x.clone().requires_grad_(true);
  quantizer->forward(input).sum().backward();
  EXPECT_FALSE(quantizer->scale().grad().defined());
  EXPECT_TRUE(input.grad().defined());  // straight-through to x

  // A non-learnable spec never trains its scale.
  Quantizer fixed(make_spec(4, true, true), ObserverKind::kMinMax, ObserverOptions{}, 1);
  fixed->set_trainable(true);
  EXPECT_FALSE(fixed->scale().requires_grad());
}

TEST(Quantizer, SaveLoadRoundTripsScaleZeroPointAndCalibrated) {
  const QuantSpec spec = make_spec(8, false, false, true, 1);
  Quantizer saved(spec, ObserverKind::kMinMax, ObserverOptions{}, 3);
  saved->set_params(torch::tensor({0.1f, 0.2f, 0.4f}), torch::tensor({3, 100, 255}, torch::kInt));
  std::stringstream stream;
  torch::save(saved, stream);

  Quantizer loaded(spec, ObserverKind::kMinMax, ObserverOptions{}, 3);
  EXPECT_FALSE(loaded->calibrated());  // also caches the host value of the flag
  torch::load(loaded, stream);
  EXPECT_TRUE(loaded->calibrated());
  EXPECT_TRUE(torch::equal(loaded->scale(), saved->scale()));
  EXPECT_TRUE(torch::equal(loaded->zero_point(), saved->zero_point()));
  const torch::Tensor x = torch::randn({2, 3, 4}) * 20;
  EXPECT_TRUE(torch::equal(loaded->forward(x), saved->forward(x)));
}

TEST(Quantizer, SetParamsRejectsInvalidValues) {
  Quantizer quantizer(make_spec(8, true, true, true, 0), ObserverKind::kMinMax, ObserverOptions{},
                      2);
  EXPECT_THROW(quantizer->set_params(torch::tensor({0.1f}), torch::tensor({0}, torch::kInt)),
               Error);  // 1 scale for 2 channels
  EXPECT_THROW(quantizer->set_params(torch::tensor({0.1f, -1.0f}), torch::zeros({2}, torch::kInt)),
               Error);
  EXPECT_THROW(
      quantizer->set_params(torch::tensor({0.1f, 0.1f}), torch::tensor({0, 1}, torch::kInt)),
      Error);  // symmetric: zero point 0
  EXPECT_FALSE(quantizer->calibrated());
}

}  // namespace
}  // namespace ptqat::quant
