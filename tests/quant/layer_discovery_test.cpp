#include "quant/layer_discovery.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "quant/qconv2d.h"
#include "quant/qlinear.h"
#include "tests/support/expect_error.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;

/// Registered head, block (with two convs, the second first in the list), stem, and a spare
/// layer and a float layer; forward runs stem -> block.1 -> block.0 -> head, the spare one only
/// when asked, and throws when asked.
struct ToyNetImpl : nn::Module {
  ToyNetImpl() {
    head = register_module("head", QLinear(nn::LinearOptions(4, 2)));
    block = register_module("block", nn::Sequential(QConv2d(nn::Conv2dOptions(4, 4, 1)),
                                                    QConv2d(nn::Conv2dOptions(4, 4, 1))));
    norm = register_module("norm", nn::BatchNorm2d(4));
    stem = register_module("stem", QConv2d(nn::Conv2dOptions(3, 4, 3).padding(1)));
    spare = register_module("spare", QConv2d(nn::Conv2dOptions(4, 4, 1)));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = norm(stem(x));
    y = block[1]->as<QConv2d>()->forward(y);
    y = block[0]->as<QConv2d>()->forward(y);
    if (throw_midway) throw std::runtime_error("forward failed");
    y = block[1]->as<QConv2d>()->forward(y);  // a second call does not move it
    if (use_spare) y = spare(y);
    return head(y.mean({2, 3}));
  }

  QLinear head{nullptr};
  nn::Sequential block{nullptr};
  nn::BatchNorm2d norm{nullptr};
  QConv2d stem{nullptr};
  QConv2d spare{nullptr};
  bool use_spare = true;
  bool throw_midway = false;
};
TORCH_MODULE(ToyNet);

std::vector<std::string> names_of(const std::vector<NamedLayer>& layers) {
  std::vector<std::string> names;
  for (const auto& entry : layers) names.push_back(entry.name);
  return names;
}

TEST(LayerDiscovery, FindsQuantizableLayersInRegistrationOrder) {
  ToyNet net;
  const auto layers = find_quantizable_layers(*net);
  EXPECT_EQ(names_of(layers),
            (std::vector<std::string>{"head", "block.0", "block.1", "stem", "spare"}));
  EXPECT_EQ(layers[0].layer.get(), net->head.get());
  EXPECT_EQ(layers[0].layer->kind(), LayerKind::kLinear);
}

TEST(LayerDiscovery, SharedLayerIsFoundOnce) {
  ToyNet net;
  net->register_module("alias", net->stem);
  EXPECT_EQ(names_of(find_quantizable_layers(*net)),
            (std::vector<std::string>{"head", "block.0", "block.1", "stem", "spare"}));
}

TEST(LayerDiscovery, ForwardOrderDiffersFromRegistrationAndIsRecovered) {
  ToyNet net;
  const torch::Tensor x = torch::randn({2, 3, 5, 5});
  const auto ordered = in_forward_order(find_quantizable_layers(*net), [&] { net->forward(x); });
  EXPECT_EQ(names_of(ordered),
            (std::vector<std::string>{"stem", "block.1", "block.0", "spare", "head"}));
  EXPECT_EQ(ordered[0].layer.get(), net->stem.get());
}

TEST(LayerDiscovery, UncalledLayerIsNamed) {
  ToyNet net;
  net->use_spare = false;
  const torch::Tensor x = torch::randn({1, 3, 4, 4});
  testing::expect_error<Error>(
      [&] { in_forward_order(find_quantizable_layers(*net), [&] { net->forward(x); }); },
      {"spare", "never called"});
}

TEST(LayerDiscovery, RecorderIsDetachedWhenForwardThrows) {
  ToyNet net;
  const auto layers = find_quantizable_layers(*net);
  const torch::Tensor x = torch::randn({1, 3, 4, 4});
  net->throw_midway = true;
  EXPECT_THROW(in_forward_order(layers, [&] { net->forward(x); }), std::runtime_error);
  net->throw_midway = false;
  // Forward calls outside a recording pass must not touch the recorder of the failed one (it is
  // gone); a new pass records from scratch.
  net->forward(x);
  EXPECT_EQ(names_of(in_forward_order(layers, [&] { net->forward(x); })),
            (std::vector<std::string>{"stem", "block.1", "block.0", "spare", "head"}));
}

TEST(LayerDiscovery, SetModeSetsEveryLayer) {
  ToyNet net;
  const auto layers = find_quantizable_layers(*net);
  set_mode(layers, LayerMode::kCalibrate);
  for (const auto& entry : layers) EXPECT_EQ(entry.layer->mode(), LayerMode::kCalibrate);
  set_mode(layers, LayerMode::kFloat);
  EXPECT_EQ(net->stem->mode(), LayerMode::kFloat);
}

}  // namespace
}  // namespace ptqat::quant
