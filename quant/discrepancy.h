#pragma once
// Layer discrepancy: how far each calibrated layer's quantized output is from its float output
// on the calibration batches (docs/architecture.md, "The method in one paragraph").

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/collective.h"
#include "quant/calibration.h"
#include "quant/layer_discovery.h"
#include "quant/quant_config.h"

namespace ptqat::quant {

/// One row of the discrepancy table.
struct LayerDiscrepancy {
  std::string name;
  LayerKind kind = LayerKind::kConv2d;
  int64_t forward_index = 0;
  int64_t parameters = 0;  ///< QuantizableLayer::parameter_count().
  int64_t weight_bits = 0;
  int64_t input_bits = 0;
  bool keep_float = false;
  /// False for a layer whose precision a policy holds (keep-float, or bits other than the
  /// config's: the int8 edge layers): PTQAT never freezes it and the freeze ratio does not count
  /// it (docs/quantization.md, "Layers a policy holds").
  bool ranked = true;
  double discrepancy = 0;  ///< The configured measure: measures[measure_name(mode, metric)].
  /// Every measure of the layer, by measure_name(): both modes with each of the three metrics.
  std::map<std::string, double> measures;
  bool frozen = false;  ///< Filled in by the selection (quant/selection.h).
};

using DiscrepancyTable = std::vector<LayerDiscrepancy>;

/// "isolated_nmse", "cumulative_cosine", ...: the name of one measure (records, reports).
std::string measure_name(DiscrepancyMode mode, DiscrepancyMetric metric);
/// The six (mode, metric) pairs, isolated first.
std::vector<std::pair<DiscrepancyMode, DiscrepancyMetric>> all_measures();

/// Measures every layer's discrepancy on batches 0..batches-1 without gradients, sums reduced
/// over `group`, in both modes and every metric (so that the report can show how much the choice
/// matters; the sums of one pass give all three metrics). kIsolated: one pass per batch, each
/// layer fed the float input. kCumulative: per batch a float pass storing each layer's output,
/// then a quantized pass comparing with them. `layers` in forward order, calibrated and
/// configured from `config`, whose discrepancy_mode and discrepancy_metric pick the rows'
/// `discrepancy` and whose bits decide `ranked`. The model is in eval mode during the passes
/// and the layers are left in quantize mode. Rows follow `layers`.
DiscrepancyTable measure_discrepancy(torch::nn::Module& model,
                                     const std::vector<NamedLayer>& layers, int64_t batches,
                                     const BatchForward& forward, const QuantConfig& config,
                                     core::Collective& group);

}  // namespace ptqat::quant
