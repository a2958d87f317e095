// The passes end to end on a small network whose hard-to-quantize layer is known: discovery and
// forward order, PTQ calibration, layer discrepancy, PTQAT selection, fine-tuning with frozen
// layers, checkpoint round trip and the HDF5 export/import.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "core/collective.h"
#include "quant/calibration.h"
#include "quant/discrepancy.h"
#include "quant/layer_discovery.h"
#include "quant/layer_policy.h"
#include "quant/qconv2d.h"
#include "quant/qconv_transpose2d.h"
#include "quant/qlinear.h"
#include "quant/quantized_export.h"
#include "quant/selection.h"
#include "quant/with_batch_norm.h"
#include "tests/quant/layer_test_util.h"
#include "tests/support/temp_dir.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;

/// Six quantizable layers of every kind, registered in an order unlike the forward order. `hard`
/// is built to be hard to quantize: each of its output channels has one weight of 1000 on input
/// channel 0, which `mid` keeps at zero (dead ReLU channel). Per-channel min-max at 4 bits gives
/// scale 1000/7, so every other weight of `hard` rounds to 0 and its output is lost, while the
/// outliers never change the output (their input is 0): no other layer sees larger activations.
struct HardLayerNetImpl : nn::Module {
  HardLayerNetImpl() {
    head = register_module("head", QLinear(nn::LinearOptions(4, 2)));
    hard = register_module("hard", QConv2d(nn::Conv2dOptions(8, 8, 1)));
    stem = register_module("stem", QConvBn2d(nn::Conv2dOptions(3, 8, 3).padding(1).bias(false),
                                             nn::BatchNorm2dOptions(8)));
    mid = register_module("mid", QConv2d(nn::Conv2dOptions(8, 8, 3).padding(1)));
    refine = register_module("refine", QConvBn2d(nn::Conv2dOptions(8, 8, 3).padding(1).bias(false),
                                                 nn::BatchNorm2dOptions(8)));
    up = register_module("up", QConvTranspose2d(nn::ConvTranspose2dOptions(8, 4, 2).stride(2)));
    torch::NoGradGuard no_grad;
    mid->conv->weight[0].zero_();
    mid->conv->bias[0].fill_(-1.0f);
    hard->conv->weight.normal_(0.0, 0.5);
    hard->conv->weight.select(1, 0).fill_(1000.0f);
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(stem(x));
    y = torch::relu(mid(y));
    y = torch::relu(hard(y));
    y = torch::relu(refine(y));
    y = up(y);
    return head(y.mean({2, 3}));
  }

  QConvBn2d stem{nullptr}, refine{nullptr};
  QConv2d mid{nullptr}, hard{nullptr};
  QConvTranspose2d up{nullptr};
  QLinear head{nullptr};
};
TORCH_MODULE(HardLayerNet);

const std::vector<std::string> kForwardOrder = {"stem", "mid", "hard", "refine", "up", "head"};

QuantConfig four_bit_config() {
  QuantConfig config;
  config.weight.bits = 4;
  config.activation.bits = 8;
  config.first_last = EdgeLayerPolicy::kSame;
  config.activation_observer = ObserverKind::kMinMax;
  return config;
}

/// A network with trained-looking BatchNorm statistics, its layers in forward order, configured
/// by `config`, and calibration batches.
struct Fixture {
  explicit Fixture(const QuantConfig& config, uint64_t seed = 7) : config(config) {
    torch::manual_seed(seed);
    net = HardLayerNet();
    batches.reserve(4);
    for (int i = 0; i < 4; ++i) batches.push_back(torch::randn({4, 3, 8, 8}));
    net->train();
    {
      torch::NoGradGuard no_grad;
      for (const auto& batch : batches) net->forward(batch);  // moves BN running statistics
    }
    layers = in_forward_order(find_quantizable_layers(*net), [&] { net->forward(batches[0]); });
    configure_layers(layers, config);
  }

  BatchForward forward() {
    return [this](int64_t batch) { net->forward(batches[static_cast<size_t>(batch)]); };
  }

  void calibrate(int64_t count = 4) { quant::calibrate(*net, layers, count, forward(), group); }

  DiscrepancyTable discrepancy(DiscrepancyMode mode = DiscrepancyMode::kIsolated,
                               DiscrepancyMetric metric = DiscrepancyMetric::kMse,
                               int64_t count = 4) {
    QuantConfig measured = config;
    measured.discrepancy_mode = mode;
    measured.discrepancy_metric = metric;
    return measure_discrepancy(*net, layers, count, forward(), measured, group);
  }

  /// PTQ, then the isolated MSE table.
  DiscrepancyTable calibrate_and_measure(int64_t count = 4) {
    calibrate(count);
    return discrepancy(DiscrepancyMode::kIsolated, DiscrepancyMetric::kMse, count);
  }

  QuantConfig config;
  HardLayerNet net{nullptr};
  std::vector<torch::Tensor> batches;
  std::vector<NamedLayer> layers;
  core::SingleProcessCollective group;
};

std::vector<std::string> names_of(const std::vector<NamedLayer>& layers) {
  std::vector<std::string> names;
  for (const auto& entry : layers) names.push_back(entry.name);
  return names;
}

TEST(PtqatPasses, DiscoveryFindsEveryLayerAndRecoversForwardOrder) {
  Fixture f(four_bit_config());
  const std::vector<std::string> registered = names_of(find_quantizable_layers(*f.net));
  EXPECT_EQ(registered, (std::vector<std::string>{"head", "hard", "stem", "mid", "refine", "up"}));
  EXPECT_EQ(names_of(f.layers), kForwardOrder);
}

TEST(PtqatPasses, CalibrationSetsEveryScaleWithoutMovingBatchNorm) {
  Fixture f(four_bit_config());
  const torch::Tensor running_mean = f.net->stem->bn->running_mean.clone();
  f.net->train();
  f.calibrate();
  EXPECT_TRUE(f.net->is_training());  // restored
  EXPECT_TRUE(torch::equal(f.net->stem->bn->running_mean, running_mean));
  for (const auto& entry : f.layers) {
    EXPECT_TRUE(entry.layer->weight_quantizer()->calibrated()) << entry.name;
    EXPECT_TRUE(entry.layer->input_quantizer()->calibrated()) << entry.name;
    EXPECT_EQ(entry.layer->mode(), LayerMode::kQuantize) << entry.name;
  }
  // The stem's input is the network input: its min-max input scale is the batches' range over
  // 255 codes (asymmetric unsigned 8 bits, widened to include 0).
  double lo = 0, hi = 0;
  for (const auto& batch : f.batches) {
    lo = std::min(lo, batch.min().item<double>());
    hi = std::max(hi, batch.max().item<double>());
  }
  EXPECT_FLOAT_EQ(f.net->stem->input_quantizer()->scale().item<float>(),
                  static_cast<float>((hi - lo) / 255.0));
  // The hard layer's weight scale: its outlier over 7 (4-bit narrow symmetric), every channel.
  const torch::Tensor hard_scale = f.net->hard->weight_quantizer()->scale();
  EXPECT_TRUE(torch::allclose(hard_scale, torch::full({8}, 1000.0f / 7.0f)));
}

TEST(PtqatPasses, IsolatedDiscrepancyRanksTheHardLayerLast) {
  Fixture f(four_bit_config());
  f.calibrate();
  for (DiscrepancyMetric metric :
       {DiscrepancyMetric::kMse, DiscrepancyMetric::kNmse, DiscrepancyMetric::kCosine}) {
    const DiscrepancyTable table = f.discrepancy(DiscrepancyMode::kIsolated, metric);
    ASSERT_EQ(table.size(), 6u);
    for (size_t i = 0; i < table.size(); ++i) {
      EXPECT_EQ(table[i].name, kForwardOrder[i]);
      EXPECT_EQ(table[i].forward_index, static_cast<int64_t>(i));
      EXPECT_GT(table[i].discrepancy, 0.0) << table[i].name;
      if (table[i].name != "hard") {
        EXPECT_LT(table[i].discrepancy, table[2].discrepancy) << table[i].name;
      }
    }
    // All of hard's non-outlier weights round to 0 and its outliers see 0: its quantized output
    // is its bias alone, so NMSE = |f - bias|^2 / |f|^2 and the cosine distance is near 1 - 0.
    if (metric == DiscrepancyMetric::kNmse) {
      EXPECT_GT(table[2].discrepancy, 0.5);
    }
  }
}

TEST(PtqatPasses, OneMeasurementGivesEveryMeasureAndTheConfiguredOneRanks) {
  Fixture f(four_bit_config());
  f.calibrate();
  const DiscrepancyTable table =
      f.discrepancy(DiscrepancyMode::kCumulative, DiscrepancyMetric::kCosine);
  const DiscrepancyTable isolated_mse = f.discrepancy();
  for (size_t i = 0; i < table.size(); ++i) {
    ASSERT_EQ(table[i].measures.size(), 6u) << table[i].name;
    EXPECT_EQ(table[i].discrepancy, table[i].measures.at("cumulative_cosine"));
    // Every pass is deterministic: the same measure from another call is the same number.
    EXPECT_EQ(table[i].measures, isolated_mse[i].measures) << table[i].name;
    EXPECT_EQ(isolated_mse[i].discrepancy, table[i].measures.at("isolated_mse"));
    EXPECT_TRUE(table[i].ranked) << table[i].name;  // first_last "same": no policy holds any
  }
}

TEST(PtqatPasses, PolicyHeldLayersAreNotRankedNeverFrozenAndNotCounted) {
  QuantConfig config = four_bit_config();
  config.first_last = EdgeLayerPolicy::kInt8;
  config.overrides = {"mid=float"};
  Fixture f(config);
  const DiscrepancyTable table = f.calibrate_and_measure();
  // stem (first) and head (last) at 8 bits, mid in float: three ranked layers remain.
  const std::vector<bool> ranked = {false, false, true, true, true, false};
  for (size_t i = 0; i < table.size(); ++i) EXPECT_EQ(table[i].ranked, ranked[i]) << table[i].name;
  for (SelectionRule rule :
       {SelectionRule::kSmallest, SelectionRule::kLargest, SelectionRule::kRandom}) {
    SelectionOptions options;
    options.rule = rule;
    options.freeze_ratio = 1.0;
    const LayerSelection all = select_layers(table, options);
    EXPECT_EQ(all.frozen, (std::vector<bool>{false, false, true, true, true, false}));
    options.freeze_ratio = 0.5;  // floor(0.5 * 3 + 0.5) = 2 of the 3 ranked layers
    EXPECT_EQ(select_layers(table, options).frozen_layers, 2);
  }
}

TEST(PtqatPasses, CumulativeDiscrepancyOfTheFirstLayerEqualsIsolated) {
  // The first layer sees the float network input in both modes; later layers differ.
  Fixture f(four_bit_config());
  f.calibrate();
  const auto isolated = f.discrepancy(DiscrepancyMode::kIsolated, DiscrepancyMetric::kMse);
  const auto cumulative = f.discrepancy(DiscrepancyMode::kCumulative, DiscrepancyMetric::kMse);
  EXPECT_DOUBLE_EQ(cumulative[0].discrepancy, isolated[0].discrepancy);
  // Downstream of the hard layer the cumulative error includes what it lost.
  EXPECT_GT(cumulative[3].discrepancy, isolated[3].discrepancy);
}

TEST(PtqatPasses, SmallestRuleFreezesHalfIncludingTheHardLayerLargestTheOpposite) {
  for (SelectionRule rule : {SelectionRule::kSmallest, SelectionRule::kLargest}) {
    Fixture f(four_bit_config());
    DiscrepancyTable table = f.calibrate_and_measure();
    SelectionOptions options;
    options.rule = rule;
    const LayerSelection selection = select_layers(table, options);
    EXPECT_EQ(selection.frozen_layers, 3);
    EXPECT_EQ(selection.frozen[2], rule == SelectionRule::kSmallest);
    // Every frozen layer's discrepancy is above (smallest) / below (largest) every trained one.
    for (size_t i = 0; i < table.size(); ++i) {
      for (size_t j = 0; j < table.size(); ++j) {
        if (!selection.frozen[i] || selection.frozen[j]) continue;
        if (rule == SelectionRule::kSmallest) {
          EXPECT_GT(table[i].discrepancy, table[j].discrepancy);
        } else {
          EXPECT_LT(table[i].discrepancy, table[j].discrepancy);
        }
      }
    }
  }
}

TEST(PtqatPasses, FineTuningKeepsFrozenLayersBitIdenticalAndTrainsTheOthers) {
  Fixture f(four_bit_config());
  DiscrepancyTable table = f.calibrate_and_measure();
  const LayerSelection selection = select_layers(table, SelectionOptions{});
  const int64_t trainable = apply_selection(*f.net, f.layers, selection, QuantMethod::kPtqat,
                                            BnStatistics::kFrozen, table);
  std::vector<std::map<std::string, torch::Tensor>> before;
  int64_t expected_trainable = 0;
  for (size_t i = 0; i < f.layers.size(); ++i) {
    before.push_back(test::snapshot(*f.layers[i].layer));
    EXPECT_EQ(table[i].frozen, selection.frozen[i]);
    if (!selection.frozen[i]) {
      // Weights, bias, BN affine, and both learnable scales (per channel + per tensor).
      expected_trainable +=
          table[i].parameters + f.layers[i].layer->weight_quantizer()->scale().numel() + 1;
    }
  }
  EXPECT_EQ(trainable, expected_trainable);

  std::vector<torch::Tensor> parameters;
  for (const auto& p : f.net->parameters()) {
    if (p.requires_grad()) parameters.push_back(p);
  }
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(1e-2));
  f.net->train();
  const torch::Tensor target = torch::randn({4, 2});
  for (int step = 0; step < 3; ++step) {
    optimizer.zero_grad();
    torch::mse_loss(f.net->forward(f.batches[step % 4]), target).backward();
    optimizer.step();
  }
  for (size_t i = 0; i < f.layers.size(); ++i) {
    const auto after = test::snapshot(*f.layers[i].layer);
    bool weight_changed = false;
    for (const auto& [name, value] : before[i]) {
      const bool same = torch::equal(after.at(name), value);
      if (selection.frozen[i]) {
        EXPECT_TRUE(same) << f.layers[i].name << "." << name;
      }
      if (name.find("conv.weight") != std::string::npos ||
          name.find("linear.weight") != std::string::npos) {
        weight_changed = !same;
      }
    }
    EXPECT_EQ(weight_changed, !selection.frozen[i]) << f.layers[i].name;
  }
}

TEST(PtqatPasses, TrainableParameterCountsForPtqAndQat) {
  Fixture f(four_bit_config());
  DiscrepancyTable table = f.calibrate_and_measure(2);
  SelectionOptions options;
  options.method = QuantMethod::kQat;
  EXPECT_EQ(apply_selection(*f.net, f.layers, select_layers(table, options), QuantMethod::kQat,
                            BnStatistics::kFrozen, table),
            // stem 3*8*9 + BN 16 + scales 8+1; mid 8*8*9+8 + 9; hard 64+8 + 9;
            // refine 8*8*9 + 16 + 9; up 8*4*4+4 + 4+1; head 4*2+2 + 2+1.
            (216 + 16 + 9) + (576 + 8 + 9) + (72 + 9) + (576 + 16 + 9) + (132 + 5) + (10 + 3));
  options.method = QuantMethod::kPtq;
  EXPECT_EQ(apply_selection(*f.net, f.layers, select_layers(table, options), QuantMethod::kPtq,
                            BnStatistics::kFrozen, table),
            0);
}

TEST(PtqatPasses, CheckpointRoundTripsQuantizerAndFrozenState) {
  Fixture f(four_bit_config());
  DiscrepancyTable table = f.calibrate_and_measure();
  apply_selection(*f.net, f.layers, select_layers(table, SelectionOptions{}), QuantMethod::kPtqat,
                  BnStatistics::kFrozen, table);
  f.net->eval();
  const torch::Tensor expected = f.net->forward(f.batches[1]);

  std::stringstream checkpoint;
  torch::save(f.net, checkpoint);
  Fixture restored(four_bit_config(), /*seed=*/99);  // other weights, uncalibrated
  torch::load(restored.net, checkpoint);
  set_mode(restored.layers, LayerMode::kQuantize);
  restored.net->eval();
  for (size_t i = 0; i < f.layers.size(); ++i) {
    QuantizableLayer& a = *f.layers[i].layer;
    QuantizableLayer& b = *restored.layers[i].layer;
    EXPECT_TRUE(b.weight_quantizer()->calibrated());
    EXPECT_TRUE(torch::equal(a.weight_quantizer()->scale(), b.weight_quantizer()->scale()));
    EXPECT_TRUE(torch::equal(a.input_quantizer()->zero_point(), b.input_quantizer()->zero_point()));
    EXPECT_EQ(a.frozen(), b.frozen()) << f.layers[i].name;
  }
  EXPECT_TRUE(torch::equal(restored.net->forward(restored.batches[1]), expected));
}

TEST(PtqatPasses, ExportImportRebuildsTheFakeQuantizedModelExactly) {
  Fixture f(four_bit_config());
  f.calibrate();
  f.net->eval();
  std::vector<torch::Tensor> fake_quantized;
  {
    torch::NoGradGuard no_grad;
    for (const auto& entry : f.layers) {
      fake_quantized.push_back(
          entry.layer->weight_quantizer()->forward(entry.layer->folded_weight()));
    }
  }
  const torch::Tensor expected = f.net->forward(f.batches[2]);
  testing::TempDir dir;
  export_quantized(f.layers, dir.file("model.h5"));

  Fixture imported(four_bit_config(), /*seed=*/123);
  import_quantized(imported.layers, dir.file("model.h5"));
  set_mode(imported.layers, LayerMode::kQuantize);
  imported.net->eval();
  for (size_t i = 0; i < f.layers.size(); ++i) {
    EXPECT_TRUE(imported.layers[i].layer->frozen());
    EXPECT_TRUE(torch::equal(imported.layers[i].layer->frozen_weight(), fake_quantized[i]))
        << f.layers[i].name;
  }
  EXPECT_TRUE(torch::allclose(imported.net->forward(imported.batches[2]), expected, 0, 0));
}

TEST(PtqatPasses, ImportNamesTheMissingLayer) {
  Fixture f(four_bit_config());
  f.calibrate(1);
  testing::TempDir dir;
  std::vector<NamedLayer> some(f.layers.begin(), f.layers.begin() + 2);
  export_quantized(some, dir.file("partial.h5"));
  try {
    import_quantized(f.layers, dir.file("partial.h5"));
    FAIL() << "expected a DataError";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("layer 'hard'"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace ptqat::quant
