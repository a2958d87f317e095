#pragma once
// PTQ calibration: observe the layers' inputs over calibration batches, set every scale.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/collective.h"
#include "quant/layer_discovery.h"

namespace ptqat::quant {

/// Runs the model forward on calibration batch `batch` (0-based); the caller owns the data.
using BatchForward = std::function<void(int64_t batch)>;

/// Puts a model in eval mode for a pass and restores its training flag at scope exit (also on
/// exceptions): the passes must not move BatchNorm running statistics.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(torch::nn::Module& model)
      : model_(model), was_training_(model.is_training()) {
    model_.eval();
  }
  ~EvalModeGuard() { model_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  torch::nn::Module& model_;
  bool was_training_;
};

/// PTQ calibration: puts `model` in eval mode and the layers in calibrate mode, runs `forward`
/// for batches 0..batches-1 without gradients, reduces the statistics over `group` (every rank
/// ends with the same scales) and leaves the layers in quantize mode. The model's training flag
/// is restored. The layers' quantizers must be configured (configure_layers()).
void calibrate(torch::nn::Module& model, const std::vector<NamedLayer>& layers, int64_t batches,
               const BatchForward& forward, core::Collective& group);

}  // namespace ptqat::quant
