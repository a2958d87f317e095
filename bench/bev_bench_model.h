#pragma once
// The networks `ptqat bench step` trains: a registry of fixed models (so figures compare across
// versions) and the BEV-style network it starts with.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "quant/qconv2d.h"
#include "quant/with_batch_norm.h"

namespace ptqat::bench {

/// A model the step benchmark trains: the module (owned, shared with `forward`), its forward and
/// the shapes of its fixed random input and regression target.
struct StepBenchModel {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::vector<int64_t> input_shape;
  std::vector<int64_t> target_shape;
};

/// One entry of the step-benchmark registry.
struct StepBenchModelEntry {
  std::string name;
  std::string description;
  std::function<StepBenchModel()> make;
};

/// The registered models, in the order `--help` lists them.
const std::vector<StepBenchModelEntry>& step_bench_models();

/// Names of step_bench_models().
std::vector<std::string> step_bench_model_names();

/// Builds the registered model `name` with the current torch seed; ConfigError listing the names
/// when unknown.
StepBenchModel make_step_bench_model(const std::string& name);

/// Sizes of the BEV-style network. Input (batch, in_channels, size, size); three stages of
/// three conv3x3 + BN + ReLU (the first with stride 2), at size/2, size/4, size/8; each stage
/// upsampled by a transposed conv + BN + ReLU (kernel = stride = 1, 2, 4) to `up_channels` at
/// size/2; the three concatenated; a conv3x3 + BN + ReLU head to `head_channels` and a conv3x3
/// (with bias) to `classes`.
struct BevBenchShape {
  int64_t batch = 2;
  int64_t in_channels = 64;
  int64_t size = 128;
  std::array<int64_t, 3> stage_channels{64, 128, 256};
  int64_t up_channels = 128;
  int64_t head_channels = 64;
  int64_t classes = 20;
};

/// The BEV-style network of BevBenchShape, built from quantizable layers: 9 + 1 QConvBn2d
/// (stages, head), 3 QConvTransposeBn2d, and a QConv2d output. Module names: stage1.0 ..
/// stage3.2, up1 .. up3, head, out.
class BevBenchNetImpl : public torch::nn::Module {
 public:
  explicit BevBenchNetImpl(const BevBenchShape& shape);

  /// (batch, in_channels, size, size) -> (batch, classes, size / 2, size / 2).
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::array<std::vector<quant::QConvBn2d>, 3> stages_;
  std::array<quant::QConvTransposeBn2d, 3> upsamples_{nullptr, nullptr, nullptr};
  quant::QConvBn2d head_{nullptr};
  quant::QConv2d out_{nullptr};
};
TORCH_MODULE(BevBenchNet);

}  // namespace ptqat::bench
