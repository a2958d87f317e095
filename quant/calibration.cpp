#include "quant/calibration.h"

#include "core/error.h"

namespace ptqat::quant {

void calibrate(torch::nn::Module& model, const std::vector<NamedLayer>& layers, int64_t batches,
               const BatchForward& forward, core::Collective& group) {
  PTQAT_CHECK(batches >= 1, ConfigError, "calibration: expected at least 1 batch, got {}", batches);
  // Eval mode: calibration must not move BatchNorm running statistics (they are folded into the
  // weights the quantizers observe).
  EvalModeGuard eval_mode(model);
  set_mode(layers, LayerMode::kCalibrate);
  {
    torch::NoGradGuard no_grad;
    for (int64_t batch = 0; batch < batches; ++batch) forward(batch);
  }
  // Layer order is the same on every rank, so the quantizers' collectives pair up.
  for (const NamedLayer& entry : layers) entry.layer->finish_calibration(group);
  set_mode(layers, LayerMode::kQuantize);
}

}  // namespace ptqat::quant
