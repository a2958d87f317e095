#include "quant/quant_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/config_toml.h"
#include "core/stage_key.h"
#include "tests/support/expect_error.h"

namespace ptqat::quant {
namespace {

using ptqat::testing::expect_error;

QuantConfig parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  QuantConfig config;
  core::ConfigDocument document = core::ConfigDocument::from_string(text, "quant.toml");
  for (const auto& assignment : overrides) document.apply_override(assignment);
  document.read_into(core::fields_of(config));
  return config;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(QuantConfig, DefaultsArePerChannelInt8WeightsAndAffineUint8Inputs) {
  const QuantConfig config;
  EXPECT_EQ(config.weight.bits, 8);
  EXPECT_TRUE(config.weight.symmetric);
  EXPECT_TRUE(config.weight.is_signed);
  EXPECT_TRUE(config.weight.narrow_range);
  EXPECT_TRUE(config.weight.per_channel);
  EXPECT_EQ(config.weight.axis, 0);
  EXPECT_TRUE(config.weight.learnable_scale);
  EXPECT_EQ(config.weight.quant_min(), -127);
  EXPECT_EQ(config.weight.quant_max(), 127);

  EXPECT_EQ(config.activation.bits, 8);
  EXPECT_FALSE(config.activation.symmetric);
  EXPECT_FALSE(config.activation.is_signed);
  EXPECT_FALSE(config.activation.per_channel);
  EXPECT_TRUE(config.activation.learnable_scale);
  EXPECT_EQ(config.activation.quant_min(), 0);
  EXPECT_EQ(config.activation.quant_max(), 255);

  EXPECT_EQ(config.weight_observer, ObserverKind::kMinMax);
  EXPECT_EQ(config.activation_observer, ObserverKind::kPercentile);
  EXPECT_EQ(config.calibration_batches, 8);
  EXPECT_EQ(config.first_last, EdgeLayerPolicy::kInt8);
  EXPECT_TRUE(config.overrides.empty());
  EXPECT_EQ(config.discrepancy_mode, DiscrepancyMode::kIsolated);
  EXPECT_EQ(config.discrepancy_metric, DiscrepancyMetric::kNmse);
  EXPECT_EQ(config.method, QuantMethod::kPtqat);
  EXPECT_DOUBLE_EQ(config.freeze_ratio, 0.5);
  EXPECT_EQ(config.rule, SelectionRule::kSmallest);
  EXPECT_EQ(config.freeze_by, FreezeBy::kLayers);
  EXPECT_EQ(config.select_seed, -1);
  EXPECT_EQ(config.bn_statistics, BnStatistics::kFrozen);
  EXPECT_NO_THROW(config.validate());
}

TEST(QuantConfig, ReadsEveryFieldFromTomlAndOverrides) {
  const QuantConfig config = parse(R"(
[quant]
weight_observer = "mse"
activation_observer = "running_minmax"
calibration_batches = 4
first_last = "float"
overrides = ["backbone.*=4"]
discrepancy_mode = "cumulative"
discrepancy_metric = "cosine"
rule = "random"
freeze_by = "params"
select_seed = 7
bn_statistics = "update"
[quant.weight]
bits = 4
per_channel = false
[quant.activation]
bits = 6
learnable_scale = false
[quant.observer]
ema_momentum = 0.5
percentile = 99.9
histogram_bins = 512
mse_candidates = 20
)",
                                   {"quant.method=qat", "quant.freeze_ratio=0.25",
                                    R"(quant.overrides=["head.*=float", "neck.0=8"])"});
  EXPECT_EQ(config.weight.bits, 4);
  EXPECT_FALSE(config.weight.per_channel);
  EXPECT_TRUE(config.weight.symmetric);  // absent: default kept
  EXPECT_EQ(config.activation.bits, 6);
  EXPECT_FALSE(config.activation.learnable_scale);
  EXPECT_EQ(config.weight_observer, ObserverKind::kMse);
  EXPECT_EQ(config.activation_observer, ObserverKind::kRunningMinMax);
  EXPECT_DOUBLE_EQ(config.observer.ema_momentum, 0.5);
  EXPECT_DOUBLE_EQ(config.observer.percentile, 99.9);
  EXPECT_EQ(config.observer.histogram_bins, 512);
  EXPECT_EQ(config.observer.mse_candidates, 20);
  EXPECT_EQ(config.calibration_batches, 4);
  EXPECT_EQ(config.first_last, EdgeLayerPolicy::kFloat);
  // The --set override replaces the file's list.
  EXPECT_EQ(config.overrides, (std::vector<std::string>{"head.*=float", "neck.0=8"}));
  EXPECT_EQ(config.discrepancy_mode, DiscrepancyMode::kCumulative);
  EXPECT_EQ(config.discrepancy_metric, DiscrepancyMetric::kCosine);
  EXPECT_EQ(config.method, QuantMethod::kQat);
  EXPECT_DOUBLE_EQ(config.freeze_ratio, 0.25);
  EXPECT_EQ(config.rule, SelectionRule::kRandom);
  EXPECT_EQ(config.freeze_by, FreezeBy::kParams);
  EXPECT_EQ(config.select_seed, 7);
  EXPECT_EQ(config.bn_statistics, BnStatistics::kUpdate);
  EXPECT_NO_THROW(config.validate());
}

TEST(QuantConfig, ResolvedTomlRoundTrips) {
  QuantConfig original = parse("[quant]\nmethod = \"ptq\"\nfirst_last = \"same\"\n",
                               {"quant.weight.bits=3", R"(quant.overrides=["a.*=5", "b=float"])",
                                "quant.rule=largest", "quant.observer.percentile=99.5"});
  const std::string text = core::to_toml(core::fields_of(original));
  QuantConfig reread = parse(text);
  EXPECT_EQ(core::to_toml(core::fields_of(reread)), text);
  EXPECT_EQ(reread.method, QuantMethod::kPtq);
  EXPECT_EQ(reread.first_last, EdgeLayerPolicy::kSame);
  EXPECT_EQ(reread.weight.bits, 3);
  EXPECT_EQ(reread.overrides, (std::vector<std::string>{"a.*=5", "b=float"}));
  EXPECT_EQ(reread.rule, SelectionRule::kLargest);
  EXPECT_DOUBLE_EQ(reread.observer.percentile, 99.5);
  // Defaults set by the constructor survive the trip too.
  EXPECT_TRUE(reread.weight.per_channel);
  EXPECT_FALSE(reread.activation.symmetric);
}

TEST(QuantConfig, KeysAreUnderQuantWithObserverSubsection) {
  QuantConfig config;
  const std::vector<std::string> keys = core::field_keys(core::fields_of(config));
  for (const char* key :
       {"quant.weight.bits", "quant.activation.learnable_scale", "quant.weight_observer",
        "quant.observer.ema_momentum", "quant.observer.histogram_bins", "quant.overrides",
        "quant.freeze_ratio", "quant.select_seed", "quant.bn_statistics"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
}

TEST(QuantConfig, CalibrationFieldsAndFineTuneFieldsEnterTheirStagesKeys) {
  QuantConfig config;
  const std::string calibrate =
      core::canonical_form(core::fields_of(config), core::Stage::kCalibrate);
  const std::string fine_tune =
      core::canonical_form(core::fields_of(config), core::Stage::kFineTune);
  for (const char* line :
       {"quant.weight.bits=8", "quant.activation.symmetric=false",
        "quant.weight_observer=\"minmax\"", "quant.activation_observer=\"percentile\"",
        "quant.observer.percentile=99.99", "quant.calibration_batches=8",
        "quant.first_last=\"int8\"", "quant.overrides=[]", "quant.discrepancy_mode=\"isolated\"",
        "quant.discrepancy_metric=\"nmse\""}) {
    EXPECT_TRUE(has_line(calibrate, line)) << line << " not in:\n" << calibrate;
    EXPECT_FALSE(has_line(fine_tune, line)) << line;
  }
  for (const char* line :
       {"quant.method=\"ptqat\"", "quant.freeze_ratio=0.5", "quant.rule=\"smallest\"",
        "quant.freeze_by=\"layers\"", "quant.select_seed=-1", "quant.bn_statistics=\"frozen\"",
        "quant.weight.learnable_scale=true"}) {
    EXPECT_TRUE(has_line(fine_tune, line)) << line << " not in:\n" << fine_tune;
    EXPECT_FALSE(has_line(calibrate, line)) << line;
  }
}

TEST(QuantConfig, ParsesLayerOverrides) {
  const LayerOverride bits = parse_layer_override("backbone.*=4");
  EXPECT_EQ(bits.pattern, "backbone.*");
  EXPECT_FALSE(bits.keep_float);
  EXPECT_EQ(bits.bits, 4);
  const LayerOverride keep = parse_layer_override("head.*=float");
  EXPECT_EQ(keep.pattern, "head.*");
  EXPECT_TRUE(keep.keep_float);
  EXPECT_EQ(parse_layer_override(" neck.[01] = 16 ").bits, 16);
  EXPECT_EQ(parse_layer_override(" neck.[01] = 16 ").pattern, "neck.[01]");
  EXPECT_EQ(parse_layer_override("x=2").bits, 2);
}

TEST(QuantConfig, MalformedOverrideIsConfigErrorNamingTheText) {
  for (const std::string text :
       {"backbone.*", "=4", " =4", "backbone.*=", "backbone.*=1", "backbone.*=17",
        "backbone.*=four", "backbone.*=4.5", "backbone.*=+4", "backbone.*=0x8", "head=Float"}) {
    expect_error<ConfigError>([&] { parse_layer_override(text); },
                              {"quant.overrides", "\"" + text + "\""});
  }
}

TEST(QuantConfig, ValidateRejectsABadOverrideInTheList) {
  const QuantConfig config = parse("", {R"(quant.overrides=["a=4", "b=33"])"});
  expect_error<ConfigError>([&] { config.validate(); }, {"quant.overrides", "\"b=33\""});
}

TEST(QuantConfig, OutOfRangeFreezeRatioNamesTheKey) {
  expect_error<ConfigError>([] { parse("[quant]\nfreeze_ratio = 1.5\n"); },
                            {"quant.toml:2", "quant.freeze_ratio", "[0, 1]", "1.5"});
  expect_error<ConfigError>([] { parse("", {"quant.freeze_ratio=-0.1"}); },
                            {"--set quant.freeze_ratio=-0.1", "quant.freeze_ratio"});
  QuantConfig config;
  config.freeze_ratio = 1.01;
  expect_error<ConfigError>([&] { config.validate(); }, {"quant.freeze_ratio", "1.01"});
}

TEST(QuantConfig, ValidateNamesTheDottedKeyOfSpecAndObserverFields) {
  QuantConfig config;
  config.weight.bits = 1;
  expect_error<ConfigError>([&] { config.validate(); }, {"quant.weight.bits: ", "[2, 16]"});
  config = QuantConfig();
  config.activation.axis = -1;
  expect_error<ConfigError>([&] { config.validate(); }, {"quant.activation.axis: "});
  config = QuantConfig();
  config.observer.histogram_bins = 7;
  expect_error<ConfigError>([&] { config.validate(); }, {"quant.observer.histogram_bins", "7"});
  config = QuantConfig();
  config.select_seed = -2;
  expect_error<ConfigError>([&] { config.validate(); }, {"quant.select_seed", "-2"});
}

TEST(QuantConfig, ChoicesOutsideTheirListsAreConfigErrors) {
  expect_error<ConfigError>([] { parse("[quant]\nrule = \"median\"\n"); },
                            {"quant.rule", "[smallest, largest, random]"});
  expect_error<ConfigError>([] { parse("[quant]\nweight_observer = \"max\"\n"); },
                            {"quant.weight_observer", "[minmax, running_minmax, percentile, mse]"});
  expect_error<ConfigError>([] { parse("[quant.observer]\nema_momentum = 0\n"); },
                            {"quant.observer.ema_momentum", "(0, 1]"});
  expect_error<ConfigError>([] { parse("[quant]\ncalibration_batches = 0\n"); },
                            {"quant.calibration_batches"});
}

}  // namespace
}  // namespace ptqat::quant
