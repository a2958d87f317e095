#include "quant/frozen_ops.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/error.h"

namespace ptqat::quant {
namespace {

struct ConvCase {
  std::string name;
  std::vector<int64_t> input_sizes;
  std::vector<int64_t> weight_sizes;
  ConvGeometry geometry;
};

ConvGeometry geometry(std::vector<int64_t> stride, std::vector<int64_t> padding,
                      std::vector<int64_t> dilation, int64_t groups, bool transposed = false,
                      std::vector<int64_t> output_padding = {0, 0}) {
  ConvGeometry g;
  g.stride = std::move(stride);
  g.padding = std::move(padding);
  g.dilation = std::move(dilation);
  g.groups = groups;
  g.transposed = transposed;
  g.output_padding = std::move(output_padding);
  return g;
}

std::vector<ConvCase> conv_cases() {
  return {
      // Odd sizes with stride 2 and 3: the forward's floor drops input rows, whose gradient is 0.
      {"stride 2, padding", {2, 4, 9, 8}, {6, 4, 3, 3}, geometry({2, 2}, {1, 1}, {1, 1}, 1)},
      {"stride 3", {1, 4, 10, 11}, {5, 4, 2, 2}, geometry({3, 3}, {0, 0}, {1, 1}, 1)},
      {"dilation", {2, 4, 9, 8}, {6, 4, 3, 3}, geometry({1, 1}, {2, 1}, {2, 2}, 1)},
      {"groups", {2, 4, 9, 8}, {6, 2, 3, 3}, geometry({2, 1}, {1, 1}, {1, 1}, 2)},
      {"transposed, output padding",
       {2, 4, 5, 6},
       {4, 6, 3, 3},
       geometry({2, 2}, {1, 1}, {1, 1}, 1, true, {1, 1})},
      {"transposed, groups, dilation",
       {2, 4, 5, 6},
       {4, 3, 3, 3},
       geometry({1, 1}, {0, 0}, {2, 2}, 2, true)},
      {"transposed, output padding >= stride",
       {2, 4, 5, 6},
       {4, 6, 3, 3},
       geometry({1, 1}, {0, 0}, {3, 3}, 1, true, {2, 1})},
      {"transposed, stride 3",
       {1, 4, 4, 5},
       {4, 2, 3, 3},
       geometry({3, 2}, {1, 0}, {1, 1}, 1, true, {2, 1})},
  };
}

torch::Tensor aten_convolution(const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b, const ConvGeometry& g) {
  return at::convolution(x, w, b, g.stride, g.padding, g.dilation, g.transposed, g.output_padding,
                         g.groups);
}

TEST(FrozenOps, ConvolutionInputGradientEqualsATen) {
  torch::manual_seed(1);
  for (const ConvCase& c : conv_cases()) {
    const torch::Tensor w = torch::randn(c.weight_sizes);
    const int64_t out_channels =
        c.geometry.transposed ? c.weight_sizes[1] * c.geometry.groups : c.weight_sizes[0];
    for (const torch::Tensor& b : {torch::randn({out_channels}), torch::Tensor()}) {
      torch::Tensor x_ref = torch::randn(c.input_sizes).requires_grad_(true);
      torch::Tensor x = x_ref.detach().clone().requires_grad_(true);
      const torch::Tensor expected = aten_convolution(x_ref, w, b, c.geometry);
      const torch::Tensor y = frozen_convolution(x, w, b, c.geometry);
      EXPECT_TRUE(torch::equal(y.detach(), expected.detach())) << c.name;
      const torch::Tensor grad = torch::randn(expected.sizes());
      expected.backward(grad);
      y.backward(grad);
      ASSERT_TRUE(x.grad().defined()) << c.name;
      EXPECT_EQ(x.grad().sizes(), x.sizes()) << c.name;
      EXPECT_TRUE(torch::allclose(x.grad(), x_ref.grad(), 1e-5, 1e-5))
          << c.name << ": " << (x.grad() - x_ref.grad()).abs().max().item<double>();
    }
  }
}

TEST(FrozenOps, LinearInputGradientEqualsATen) {
  torch::manual_seed(2);
  const torch::Tensor w = torch::randn({3, 5});
  for (const auto& sizes : {std::vector<int64_t>{5}, std::vector<int64_t>{2, 4, 5}}) {
    for (const torch::Tensor& b : {torch::randn({3}), torch::Tensor()}) {
      torch::Tensor x_ref = torch::randn(sizes).requires_grad_(true);
      torch::Tensor x = x_ref.detach().clone().requires_grad_(true);
      const torch::Tensor expected = at::linear(x_ref, w, b);
      const torch::Tensor y = frozen_linear(x, w, b);
      EXPECT_TRUE(torch::equal(y.detach(), expected.detach()));
      const torch::Tensor grad = torch::randn(expected.sizes());
      expected.backward(grad);
      y.backward(grad);
      EXPECT_TRUE(torch::allclose(x.grad(), x_ref.grad(), 1e-6, 1e-6));
    }
  }
}

// The graph must hold no reference to the input's storage: once the caller drops the
// activation, its memory is free although backward has not run yet.
TEST(FrozenOps, AutogradGraphDoesNotKeepTheInput) {
  torch::manual_seed(3);
  const torch::Tensor w = torch::randn({6, 4, 3, 3});
  const ConvGeometry g = geometry({1, 1}, {1, 1}, {1, 1}, 1);
  const auto storage_refs_after = [&](bool frozen) {
    torch::Tensor leaf = torch::randn({2, 4, 8, 8}).requires_grad_(true);
    torch::Tensor activation = leaf + 1.0;  // AddBackward saves nothing of its inputs
    const c10::Storage storage = activation.storage();
    torch::Tensor y;
    if (frozen) {
      y = frozen_convolution(activation, w, torch::Tensor(), g);
    } else {
      // Control: ATen's convolution with a trainable weight saves its input.
      y = aten_convolution(activation, w.detach().requires_grad_(true), torch::Tensor(), g);
    }
    activation.reset();
    const size_t refs = storage.use_count();
    y.sum().backward();
    EXPECT_TRUE(leaf.grad().defined());
    return refs;
  };
  EXPECT_GT(storage_refs_after(false), 1u);  // the method detects a saved input
  EXPECT_EQ(storage_refs_after(true), 1u);   // only our handle is left

  torch::Tensor leaf = torch::randn({3, 5}).requires_grad_(true);
  torch::Tensor activation = leaf * 1.0 + 0.0;
  const c10::Storage storage = activation.storage();
  const torch::Tensor y = frozen_linear(activation, torch::randn({2, 5}), torch::randn({2}));
  activation.reset();
  EXPECT_EQ(storage.use_count(), 1u);
}

TEST(FrozenOps, RejectsAWeightThatRequiresGrad) {
  const torch::Tensor w = torch::randn({2, 3}).requires_grad_(true);
  EXPECT_THROW(frozen_linear(torch::randn({1, 3}), w, torch::Tensor()), InternalError);
}

}  // namespace
}  // namespace ptqat::quant
