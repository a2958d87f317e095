#include "quant/quant_config.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <string_view>

#include "core/enum_names.h"

namespace ptqat::quant {

const char* rule_name(SelectionRule rule) {
  static constexpr core::EnumName<SelectionRule> kNames[] = {{SelectionRule::kSmallest, "smallest"},
                                                             {SelectionRule::kLargest, "largest"},
                                                             {SelectionRule::kRandom, "random"}};
  return core::name_of(rule, kNames, "SelectionRule");
}

namespace {

// One table per enum: the config's spelling and the name records carry.
const std::vector<std::pair<DiscrepancyMode, const char*>> kDiscrepancyModeNames = {
    {DiscrepancyMode::kIsolated, "isolated"}, {DiscrepancyMode::kCumulative, "cumulative"}};
const std::vector<std::pair<DiscrepancyMetric, const char*>> kDiscrepancyMetricNames = {
    {DiscrepancyMetric::kMse, "mse"},
    {DiscrepancyMetric::kNmse, "nmse"},
    {DiscrepancyMetric::kCosine, "cosine"}};

template <class Enum>
const char* name_in(Enum value, const std::vector<std::pair<Enum, const char*>>& names,
                    const char* type) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  PTQAT_FAIL(InternalError, "unknown {} {}", type, static_cast<int>(value));
}

}  // namespace

const char* discrepancy_mode_name(DiscrepancyMode mode) {
  return name_in(mode, kDiscrepancyModeNames, "DiscrepancyMode");
}

const char* discrepancy_metric_name(DiscrepancyMetric metric) {
  return name_in(metric, kDiscrepancyMetricNames, "DiscrepancyMetric");
}

const char* method_name(QuantMethod method) {
  static constexpr core::EnumName<QuantMethod> kNames[] = {
      {QuantMethod::kPtq, "ptq"}, {QuantMethod::kQat, "qat"}, {QuantMethod::kPtqat, "ptqat"}};
  return core::name_of(method, kNames, "QuantMethod");
}

namespace {

constexpr int64_t kMinBits = 2;
constexpr int64_t kMaxBits = 16;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

/// Runs `spec.validate()` and prefixes its message with the spec's section, so that the user
/// reads the dotted key ("quant.weight.bits: ...").
void validate_spec(const QuantSpec& spec, const char* section) {
  try {
    spec.validate();
  } catch (const ConfigError& error) {
    PTQAT_FAIL(ConfigError, "quant.{}.{}", section, error.what());
  }
}

const std::vector<std::pair<ObserverKind, const char*>>& observer_names() {
  static const std::vector<std::pair<ObserverKind, const char*>> names = {
      {ObserverKind::kMinMax, "minmax"},
      {ObserverKind::kRunningMinMax, "running_minmax"},
      {ObserverKind::kPercentile, "percentile"},
      {ObserverKind::kMse, "mse"},
  };
  return names;
}

}  // namespace

QuantConfig::QuantConfig() {
  // Weights: TensorRT's int8 weight grid, one scale per output channel.
  weight.bits = 8;
  weight.symmetric = true;
  weight.is_signed = true;
  weight.narrow_range = true;
  weight.per_channel = true;
  weight.axis = 0;
  weight.learnable_scale = true;
  // Inputs: one affine [0, 255] grid per tensor; the zero point covers inputs with negatives.
  activation.bits = 8;
  activation.symmetric = false;
  activation.is_signed = false;
  activation.per_channel = false;
  activation.axis = 0;
  activation.learnable_scale = true;
}

void QuantConfig::validate() const {
  validate_spec(weight, "weight");
  validate_spec(activation, "activation");
  // The observer's own checks (observer.cpp) name "observer.<field>"; repeated here so that a
  // bad value fails when the config is loaded, not in the middle of a calibration pass.
  PTQAT_CHECK(observer.ema_momentum > 0.0 && observer.ema_momentum <= 1.0, ConfigError,
              "quant.observer.ema_momentum: expected a number in (0, 1], got {}",
              observer.ema_momentum);
  PTQAT_CHECK(observer.percentile > 0.0 && observer.percentile <= 100.0, ConfigError,
              "quant.observer.percentile: expected a number in (0, 100], got {}",
              observer.percentile);
  PTQAT_CHECK(observer.histogram_bins >= 2 && observer.histogram_bins % 2 == 0, ConfigError,
              "quant.observer.histogram_bins: expected an even integer >= 2, got {}",
              observer.histogram_bins);
  PTQAT_CHECK(observer.mse_candidates >= 1, ConfigError,
              "quant.observer.mse_candidates: expected an integer >= 1, got {}",
              observer.mse_candidates);
  PTQAT_CHECK(calibration_batches >= 1, ConfigError,
              "quant.calibration_batches: expected an integer >= 1, got {}", calibration_batches);
  for (const std::string& text : overrides) parse_layer_override(text);
  PTQAT_CHECK(freeze_ratio >= 0.0 && freeze_ratio <= 1.0, ConfigError,
              "quant.freeze_ratio: expected a number in [0, 1], got {}", freeze_ratio);
  PTQAT_CHECK(select_seed >= -1, ConfigError,
              "quant.select_seed: expected -1 (quant.seed) or an integer >= 0, got {}",
              select_seed);
}

void QuantConfig::visit(core::ConfigVisitor& v) {
  using core::IntRange;
  using core::RealRange;
  using core::Stage;
  v.section("quant", [&] {
    // Calibration and discrepancy: everything that changes the calibrated scales or the
    // discrepancy table (QuantSpec marks its LSQ fields kFineTune itself).
    v.section("weight", [&] { weight.visit(v); });
    v.section("activation", [&] { activation.visit(v); });
    v.choice({"weight_observer", "calibrator of the weight scales", Stage::kCalibrate},
             weight_observer, observer_names());
    v.choice({"activation_observer", "calibrator of the input scales", Stage::kCalibrate},
             activation_observer, observer_names());
    v.section("observer", [&] {
      v.field({"ema_momentum", "running_minmax: weight of each new batch", Stage::kCalibrate},
              observer.ema_momentum, RealRange{0.0, 1.0, true});
      v.field(
          {"percentile", "percentile: share of |x| kept inside the range, in %", Stage::kCalibrate},
          observer.percentile, RealRange{0.0, 100.0, true});
      v.field({"histogram_bins", "percentile, mse: histogram bins per channel (even)",
               Stage::kCalibrate},
              observer.histogram_bins, IntRange{2, kInt64Max});
      v.field({"mse_candidates", "mse: clipping ratios tried over [0.01, 1]", Stage::kCalibrate},
              observer.mse_candidates, IntRange{1, kInt64Max});
    });
    v.field({"calibration_batches", "batches of the calibration and discrepancy passes",
             Stage::kCalibrate},
            calibration_batches, IntRange{1, kInt64Max});
    v.choice({"first_last", "precision of the first and last layer", Stage::kCalibrate}, first_last,
             {{EdgeLayerPolicy::kSame, "same"},
              {EdgeLayerPolicy::kInt8, "int8"},
              {EdgeLayerPolicy::kFloat, "float"}});
    v.field({"overrides", "per-layer \"GLOB=BITS\" or \"GLOB=float\", applied in order",
             Stage::kCalibrate},
            overrides);
    v.choice({"discrepancy_mode", "layer discrepancy: each layer alone or whole network",
              Stage::kCalibrate},
             discrepancy_mode, kDiscrepancyModeNames);
    v.choice({"discrepancy_metric", "how a layer's quantized and float outputs are compared",
              Stage::kCalibrate},
             discrepancy_metric, kDiscrepancyMetricNames);

    // Fine-tuning: which layers train and how.
    v.choice(
        {"method", "ptq: calibrate only; qat: train all; ptqat: freeze a ratio", Stage::kFineTune},
        method,
        {{QuantMethod::kPtq, "ptq"}, {QuantMethod::kQat, "qat"}, {QuantMethod::kPtqat, "ptqat"}});
    v.field({"freeze_ratio", "ptqat: share of layers (or parameters) frozen", Stage::kFineTune},
            freeze_ratio, RealRange{0.0, 1.0});
    v.choice({"rule", "ptqat: smallest trains the lowest-discrepancy layers", Stage::kFineTune},
             rule,
             {{SelectionRule::kSmallest, "smallest"},
              {SelectionRule::kLargest, "largest"},
              {SelectionRule::kRandom, "random"}});
    v.choice({"freeze_by", "what freeze_ratio counts", Stage::kFineTune}, freeze_by,
             {{FreezeBy::kLayers, "layers"}, {FreezeBy::kParams, "params"}});
    v.field({"select_seed", "seed of rule = random; -1: quant.seed", Stage::kFineTune}, select_seed,
            IntRange{-1, kInt64Max});
    v.field({"seed", "fine-tune seed: data order, augmentation, random rule", Stage::kFineTune},
            seed, IntRange{0, kInt64Max});
    v.choice(
        {"bn_statistics", "BatchNorm running statistics of trainable layers", Stage::kFineTune},
        bn_statistics, {{BnStatistics::kFrozen, "frozen"}, {BnStatistics::kUpdate, "update"}});
  });
}

LayerOverride parse_layer_override(const std::string& text) {
  const size_t equals = text.rfind('=');
  PTQAT_CHECK(equals != std::string::npos, ConfigError,
              "quant.overrides: expected \"PATTERN=BITS\" or \"PATTERN=float\", got \"{}\"", text);
  const std::string_view pattern = trim(std::string_view(text).substr(0, equals));
  const std::string_view value = trim(std::string_view(text).substr(equals + 1));
  PTQAT_CHECK(!pattern.empty(), ConfigError, "quant.overrides: empty layer pattern in \"{}\"",
              text);
  LayerOverride result;
  result.pattern = std::string(pattern);
  if (value == "float") {
    result.keep_float = true;
    return result;
  }
  // from_chars: no locale, no leading '+' or whitespace, and the whole value must be consumed.
  int64_t bits = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), bits);
  const bool is_integer = error == std::errc() && end == value.data() + value.size();
  PTQAT_CHECK(is_integer && bits >= kMinBits && bits <= kMaxBits, ConfigError,
              "quant.overrides: expected bits in [{}, {}] or \"float\" after '=' in \"{}\", got "
              "\"{}\"",
              kMinBits, kMaxBits, text, value);
  result.bits = bits;
  return result;
}

}  // namespace ptqat::quant
