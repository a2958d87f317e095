#pragma once
// QuantConfig: the "quant" section of a run config. Everything a quantization pass reads: the
// weight and activation grids, the calibrators, the layer policies, how layer discrepancy is
// measured and how layers are selected for fine-tuning.

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "quant/observer.h"
#include "quant/quant_spec.h"

namespace ptqat::quant {

/// What a quantization run fine-tunes.
enum class QuantMethod {
  kPtq,    ///< Calibrate only; every layer stays at its PTQ state (no fine-tune).
  kQat,    ///< Fine-tune every quantizable layer.
  kPtqat,  ///< Freeze `freeze_ratio` of the layers at their PTQ state, fine-tune the rest.
};

/// "ptq", "qat", "ptqat": the config value, also the method's name in records.
const char* method_name(QuantMethod method);

/// Which layers PTQAT freezes, by their discrepancy rank.
enum class SelectionRule {
  kSmallest,  ///< The paper's rule: freeze the largest-discrepancy layers, train the smallest.
  kLargest,   ///< Ablation: freeze the smallest-discrepancy layers, train the largest.
  kRandom,    ///< Ablation: freeze a random subset (seed: select_seed).
};

/// "smallest", "largest", "random": the config value of `rule`.
const char* rule_name(SelectionRule rule);

/// What `freeze_ratio` counts.
enum class FreezeBy {
  kLayers,  ///< n_frozen = floor(freeze_ratio * n_layers + 0.5) layers.
  kParams,  ///< Freeze in rule order until frozen parameters reach freeze_ratio of the total.
};

/// Which outputs a layer's discrepancy compares; see quant/discrepancy.h.
enum class DiscrepancyMode {
  kIsolated,    ///< Each layer fed the float input: quantized layer vs float layer.
  kCumulative,  ///< Whole network quantized vs whole network float, compared layer by layer.
};

/// How two outputs are compared; see DiscrepancySums::value.
enum class DiscrepancyMetric {
  kMse,     ///< Mean squared error.
  kNmse,    ///< Squared error over the float output's squared norm.
  kCosine,  ///< 1 - cosine similarity of the flattened outputs.
};

/// "isolated", "cumulative" and "mse", "nmse", "cosine": the config values, as records name them.
const char* discrepancy_mode_name(DiscrepancyMode mode);
const char* discrepancy_metric_name(DiscrepancyMetric metric);

/// Precision of the first and the last quantizable layer (in forward order).
enum class EdgeLayerPolicy {
  kSame,   ///< As every other layer.
  kInt8,   ///< 8-bit weights and inputs (when the configured bits are lower).
  kFloat,  ///< Not quantized.
};

/// BatchNorm statistics of trainable QConvBn2d layers during fine-tuning.
enum class BnStatistics {
  kFrozen,  ///< Running statistics fixed at their float-model values (default, see docs).
  kUpdate,  ///< Running statistics updated from the quantized input in training mode.
};

/// The "quant" config section.
struct QuantConfig {
  QuantConfig();

  /// Weight grid; per channel, symmetric, narrow range by default. The channel axis is set per
  /// layer kind (0 for conv/linear, 1 for transposed conv), whatever `weight.axis` says.
  QuantSpec weight;
  /// Input-activation grid; per tensor, asymmetric unsigned by default.
  QuantSpec activation;
  ObserverKind weight_observer = ObserverKind::kMinMax;
  ObserverKind activation_observer = ObserverKind::kPercentile;
  ObserverOptions observer;
  /// Batches the calibration and discrepancy passes run.
  int64_t calibration_batches = 8;

  EdgeLayerPolicy first_last = EdgeLayerPolicy::kInt8;
  /// Per-layer overrides, applied in order after first_last: "PATTERN=BITS" (weights and inputs)
  /// or "PATTERN=float"; PATTERN is a shell glob (fnmatch) on the layer's dotted name.
  std::vector<std::string> overrides;

  DiscrepancyMode discrepancy_mode = DiscrepancyMode::kIsolated;
  /// Scale-free by default: MSE grows with a layer's output magnitude, so that it ranks layers
  /// by their scale rather than by their quantization error (docs/quantization.md).
  DiscrepancyMetric discrepancy_metric = DiscrepancyMetric::kNmse;

  QuantMethod method = QuantMethod::kPtqat;
  double freeze_ratio = 0.5;
  SelectionRule rule = SelectionRule::kSmallest;
  FreezeBy freeze_by = FreezeBy::kLayers;
  /// Seed of the random rule; -1: the fine-tune seed (`seed` below).
  int64_t select_seed = -1;
  /// The fine-tune seed: data order, augmentation, dropout and the random rule of the fine-tune.
  /// Fine-tunes that differ only in it share one float model and one calibration, so seeds of a
  /// comparison are paired (docs/sweeps.md). The float model's seed is the run's `seed`.
  int64_t seed = 0;
  BnStatistics bn_statistics = BnStatistics::kFrozen;

  /// Throws ConfigError naming the key when a value is out of range or an override malformed.
  void validate() const;
  void visit(core::ConfigVisitor& v);
};

/// One parsed entry of QuantConfig::overrides.
struct LayerOverride {
  std::string pattern;
  bool keep_float = false;  ///< "PATTERN=float".
  int64_t bits = 8;         ///< Otherwise the bits for weights and inputs.
};

/// Parses "PATTERN=BITS" / "PATTERN=float"; ConfigError naming `text` when malformed.
LayerOverride parse_layer_override(const std::string& text);

}  // namespace ptqat::quant
