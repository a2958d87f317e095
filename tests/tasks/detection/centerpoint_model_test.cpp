#include "tasks/detection/centerpoint_model.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>
#include <string>

#include "quant/layer_discovery.h"
#include "tests/tasks/detection/tiny_centerpoint.h"

namespace ptqat::tasks::detection {
namespace {

using testing::tiny_config;
using testing::tiny_pillars;

/// `samples` samples of `per_sample` pillars at distinct random cells with random points.
datasets::Batch random_batch(const datasets::PillarConfig& pillars, int64_t samples,
                             int64_t per_sample) {
  datasets::Batch batch;
  std::vector<torch::Tensor> coords;
  for (int64_t s = 0; s < samples; ++s) {
    batch.tokens.emplace_back(32, static_cast<char>('a' + s));
    const auto cells = torch::randperm(pillars.grid_x() * pillars.grid_y()).slice(0, 0, per_sample);
    coords.push_back(torch::stack(
        {torch::full({per_sample}, s, torch::kInt64), torch::div(cells, pillars.grid_x(), "floor"),
         cells.remainder(pillars.grid_x())},
        1));
  }
  const int64_t count = samples * per_sample;
  batch.pillar_coords = torch::cat(coords);
  batch.pillar_num_points = torch::randint(1, pillars.max_points_per_pillar + 1, {count});
  const auto kept = torch::arange(pillars.max_points_per_pillar).unsqueeze(0) <
                    batch.pillar_num_points.unsqueeze(1);
  batch.pillar_features =
      torch::randn({count, pillars.max_points_per_pillar, bev::kPillarPointFeatures}) *
      kept.unsqueeze(2);
  return batch;
}

std::map<std::string, int> kinds_of(const std::vector<quant::NamedLayer>& layers) {
  std::map<std::string, int> kinds;
  for (const auto& layer : layers) ++kinds[quant::layer_kind_name(layer.layer->kind())];
  return kinds;
}

/// Names of the plain LibTorch conv, linear and BatchNorm modules of `model`.
std::set<std::string> plain_layers(torch::nn::Module& model) {
  std::set<std::string> names;
  for (const auto& item : model.named_modules()) {
    const torch::nn::Module* m = item.value().get();
    if (dynamic_cast<const torch::nn::Conv2dImpl*>(m) ||
        dynamic_cast<const torch::nn::ConvTranspose2dImpl*>(m) ||
        dynamic_cast<const torch::nn::LinearImpl*>(m) ||
        dynamic_cast<const torch::nn::BatchNorm1dImpl*>(m) ||
        dynamic_cast<const torch::nn::BatchNorm2dImpl*>(m)) {
      names.insert(item.key());
    }
  }
  return names;
}

int64_t parameter_count(torch::nn::Module& model) {
  int64_t count = 0;
  for (const auto& p : model.parameters()) count += p.numel();
  return count;
}

TEST(CenterPointModel, TinyForwardShapes) {
  torch::manual_seed(0);
  const datasets::PillarConfig pillars = tiny_pillars();
  CenterPointModel model(tiny_config(), pillars);
  EXPECT_EQ(model->config().bev.out_size_factor(), 4);
  EXPECT_EQ(model->grid().width, 16);
  EXPECT_EQ(model->grid().height, 16);
  EXPECT_DOUBLE_EQ(model->grid().cell_x, 1.6);

  const datasets::Batch batch = random_batch(pillars, 2, 200);
  const CenterPointOutput output = model->forward(batch);
  const std::vector<int64_t> classes = {1, 2, 2, 1, 2, 2};
  ASSERT_EQ(output.size(), classes.size());
  for (size_t g = 0; g < output.size(); ++g) {
    EXPECT_EQ(output[g].heatmap.sizes(), (std::vector<int64_t>{2, classes[g], 16, 16}));
    EXPECT_EQ(output[g].offset.sizes(), (std::vector<int64_t>{2, 2, 16, 16}));
    EXPECT_EQ(output[g].height.sizes(), (std::vector<int64_t>{2, 1, 16, 16}));
    EXPECT_EQ(output[g].size.sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
    EXPECT_EQ(output[g].rotation.sizes(), (std::vector<int64_t>{2, 2, 16, 16}));
    EXPECT_EQ(output[g].velocity.sizes(), (std::vector<int64_t>{2, 2, 16, 16}));
    EXPECT_EQ(output[g].regression().size(1), kBoxCodeSize);
    // The heatmap prior: sigmoid(-2.19) = 0.1 before training, up to the conv's noise.
    EXPECT_NEAR(torch::sigmoid(output[g].heatmap).mean().item<double>(), 0.1, 0.08);
  }
}

TEST(CenterPointModel, EveryConvAndLinearIsQuantizable) {
  torch::manual_seed(0);
  const datasets::PillarConfig pillars = tiny_pillars();
  CenterPointModel model(tiny_config(), pillars);
  const std::vector<quant::NamedLayer> layers = quant::find_quantizable_layers(*model);
  // pfn 1 + backbone 3 x (1 + 1) + neck 3 + shared 1 + 6 groups x 6 branches x 2.
  EXPECT_EQ(layers.size(), 83U);
  const std::map<std::string, int> expected = {{"linear_bn1d", 1},
                                               {"conv_bn2d", 6 + 1 + 1 + 36},
                                               {"conv_transpose_bn2d", 2},
                                               {"conv2d", 36}};
  EXPECT_EQ(kinds_of(layers), expected);

  // Every torch conv / linear module is the float layer inside one of them, and every BatchNorm
  // belongs to one of them (a separate one would keep training after its layer froze).
  std::set<std::string> owned;
  for (const auto& layer : layers) {
    for (const char* member : {".conv", ".linear", ".bn"}) owned.insert(layer.name + member);
  }
  const std::set<std::string> plain = plain_layers(*model);
  EXPECT_EQ(plain.size(), layers.size() + 44 + 2 + 1);  // and one BatchNorm per *_bn layer
  for (const std::string& name : plain) EXPECT_TRUE(owned.count(name)) << name;

  // The forward calls every one of them.
  const datasets::Batch batch = random_batch(pillars, 1, 50);
  const auto ordered = quant::in_forward_order(layers, [&] { model->forward(batch); });
  EXPECT_EQ(ordered.front().name, "pfn.linear0");
  EXPECT_EQ(ordered[1].name, "backbone.0.0");
  EXPECT_EQ(ordered[7].name, "neck.0.down");
  EXPECT_EQ(ordered[8].name, "neck.1.up");
  EXPECT_EQ(ordered[10].name, "shared");
}

TEST(CenterPointModel, FullPresetLayersAndParameters) {
  const DetectionModelConfig config;
  const datasets::PillarConfig pillars;
  CenterPointModel model(config, pillars);
  EXPECT_EQ(model->config().bev.out_size_factor(), 4);
  EXPECT_EQ(model->grid().width, 128);
  EXPECT_EQ(model->grid().height, 128);
  const std::vector<quant::NamedLayer> layers = quant::find_quantizable_layers(*model);
  EXPECT_EQ(layers.size(), 93U);  // 1 + 16 + 3 + 1 + 72
  const std::map<std::string, int> expected = {{"linear_bn1d", 1},
                                               {"conv_bn2d", 16 + 1 + 1 + 36},
                                               {"conv_transpose_bn2d", 2},
                                               {"conv2d", 36}};
  EXPECT_EQ(kinds_of(layers), expected);

  // By hand (weights, biases, BatchNorm affine):
  //   pfn 10*64 + 2*64 = 768
  //   backbone 9*(64*64*4 + 64*128 + 128*128*5 + 128*256 + 256*256*5) + 2*(64*4 + 128*6 + 256*6)
  //   neck 64*128*4 + 128*128 + 256*128*4 + 3 * 2*128; shared 384*64*9 + 128
  //   heads 36 * (64*64*9 + 128) + (64*9 + 1) * (10 classes + 6 groups * 10)
  const int64_t backbone =
      9 * (64 * 64 * 4 + 64 * 128 + 128 * 128 * 5 + 128 * 256 + 256 * 256 * 5) +
      2 * (64 * 4 + 128 * 6 + 256 * 6);
  const int64_t neck = 64 * 128 * 4 + 128 * 128 + 256 * 128 * 4 + 3 * 2 * 128;
  const int64_t heads = 36 * (64 * 64 * 9 + 128) + (64 * 9 + 1) * (10 + 6 * 10);
  const int64_t total = 768 + backbone + neck + (384 * 64 * 9 + 128) + heads;
  // Quantizer scales are parameters too (one per weight channel and one per input, per layer).
  int64_t scales = 0, layer_params = 0;
  for (const auto& layer : layers) {
    scales += layer.layer->weight_quantizer()->scale().numel() +
              layer.layer->input_quantizer()->scale().numel();
    layer_params += layer.layer->parameter_count();
  }
  EXPECT_EQ(parameter_count(*model) - scales, total);
  EXPECT_EQ(layer_params, total);  // every BatchNorm belongs to a quantizable layer
  std::cout << "full CenterPoint-PointPillars: " << total << " parameters (" << layer_params
            << " in quantizable layers, " << total - layer_params << " outside), " << scales
            << " quantizer scales, " << layers.size() << " quantizable layers\n";
}

}  // namespace
}  // namespace ptqat::tasks::detection
