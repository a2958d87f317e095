// ptqat's quantization core without the runner: PTQAT on a network of one's own, in one page.
// A small MLP learns a smooth function; it is quantized to 4-bit weights / 8-bit activations by
// PTQ, then PTQAT fine-tunes the half of its layers with the smallest quantization discrepancy
// while the other half stays frozen at its PTQ state; the quantized model is exported to HDF5.
//   quantize_mlp [export.h5]

#include <fmt/format.h>
#include <torch/torch.h>

#include <iostream>

#include "core/collective.h"
#include "quant/calibration.h"
#include "quant/discrepancy.h"
#include "quant/layer_discovery.h"
#include "quant/layer_policy.h"
#include "quant/qlinear.h"
#include "quant/quantized_export.h"
#include "quant/selection.h"

namespace {

struct MlpImpl : torch::nn::Module {
  MlpImpl() {
    for (int i = 0; i < 4; ++i) {
      layers.push_back(register_module(
          fmt::format("fc{}", i),
          ptqat::quant::QLinear(torch::nn::LinearOptions(i == 0 ? 2 : 64, i == 3 ? 1 : 64))));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (size_t i = 0; i < layers.size(); ++i) {
      x = layers[i](x);
      if (i + 1 < layers.size()) x = torch::tanh(x);
    }
    return x;
  }
  std::vector<ptqat::quant::QLinear> layers;
};
TORCH_MODULE(Mlp);

torch::Tensor target(const torch::Tensor& x) {
  return torch::sin(3 * x.select(1, 0)).unsqueeze(1) * torch::cos(2 * x.select(1, 1)).unsqueeze(1);
}

double train(Mlp& model, const torch::Tensor& x, int steps, double lr) {
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::Adam optimizer(trainable, torch::optim::AdamOptions(lr));
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    const torch::Tensor loss = torch::mse_loss(model(x), target(x));
    loss.backward();
    optimizer.step();
  }
  torch::NoGradGuard no_grad;
  return torch::mse_loss(model(x), target(x)).item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  namespace quant = ptqat::quant;
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({2048, 2}) * 2 - 1;
  const auto eval_loss = [&](Mlp& model) {
    torch::NoGradGuard no_grad;
    return torch::mse_loss(model(x), target(x)).item<double>();
  };
  Mlp model;
  const double float_loss = train(model, x, 1500, 3e-3);

  // PTQ: the layers in forward order, their quantizers configured (W4A8; first and last layer
  // at 8 bits, the default policy), calibrated on 8 batches.
  quant::QuantConfig config;
  config.weight.bits = 4;
  config.activation.bits = 8;
  const std::vector<quant::NamedLayer> layers = quant::in_forward_order(
      quant::find_quantizable_layers(*model), [&] { model(x.slice(0, 0, 16)); });
  quant::configure_layers(layers, config);
  ptqat::core::SingleProcessCollective one_process;
  const auto batch = [&](int64_t i) { model(x.slice(0, i * 256, (i + 1) * 256)); };
  quant::calibrate(*model, layers, 8, batch, one_process);
  const double ptq_loss = eval_loss(model);

  // Rank the layers by discrepancy and freeze the half with the largest one at its PTQ state.
  quant::DiscrepancyTable table =
      quant::measure_discrepancy(*model, layers, 8, batch, config, one_process);
  const quant::LayerSelection selection =
      quant::select_layers(table, quant::selection_options(config));
  const int64_t trainable =
      quant::apply_selection(*model, layers, selection, config.method, config.bn_statistics, table);
  const double ptqat_loss = train(model, x, 300, 3e-4);

  for (const quant::LayerDiscrepancy& row : table) {
    std::cout << fmt::format("{:<6} W{} A{} discrepancy {:.3e} {}\n", row.name, row.weight_bits,
                             row.input_bits, row.discrepancy, row.frozen ? "frozen" : "trained");
  }
  std::cout << fmt::format(
      "mse: float {:.5f}  PTQ W4A8 {:.5f}  PTQAT(0.5) {:.5f}  ({} trainable parameters)\n",
      float_loss, ptq_loss, ptqat_loss, trainable);
  if (argc > 1) {
    quant::export_quantized(layers, argv[1]);
    std::cout << "exported " << argv[1] << "\n";
  }
  return ptqat_loss < ptq_loss ? 0 : 1;
}
