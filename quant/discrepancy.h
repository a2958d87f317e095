#pragma once
// Layer discrepancy: how far each calibrated layer's quantized output is from its float output
// on the calibration batches (docs/architecture.md, "The method in one paragraph").

#include <torch/torch.h>

#include <cstdint>
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
  double discrepancy = 0;  ///< In the metric the table was measured with.
  bool frozen = false;     ///< Filled in by the selection (quant/selection.h).
};

using DiscrepancyTable = std::vector<LayerDiscrepancy>;

/// Measures every layer's discrepancy on batches 0..batches-1 without gradients, sums reduced
/// over `group`. kIsolated: one pass per batch, each layer fed the float input. kCumulative: per
/// batch a float pass storing each layer's output, then a quantized pass comparing with them.
/// `layers` in forward order, calibrated; the model is in eval mode during the passes and the
/// layers are left in quantize mode. Rows follow `layers`.
DiscrepancyTable measure_discrepancy(torch::nn::Module& model,
                                     const std::vector<NamedLayer>& layers, int64_t batches,
                                     const BatchForward& forward, DiscrepancyMode mode,
                                     DiscrepancyMetric metric, core::Collective& group);

}  // namespace ptqat::quant
