#include "quant/discrepancy.h"

#include <fmt/format.h>

#include "core/enum_names.h"
#include "core/error.h"

namespace ptqat::quant {

namespace {

void set_capture(const std::vector<NamedLayer>& layers, DiscrepancyCapture capture) {
  for (const NamedLayer& entry : layers) entry.layer->set_discrepancy_capture(capture);
}

/// Sums every layer's DiscrepancySums (output and attached quantizers) over the ranks of `group`.
void reduce_sums(const std::vector<NamedLayer>& layers, core::Collective& group) {
  std::vector<DiscrepancySums*> all;
  for (const NamedLayer& entry : layers) {
    all.push_back(&entry.layer->discrepancy());
    for (DiscrepancySums& sums : entry.layer->attached_discrepancy()) all.push_back(&sums);
  }
  const auto count = static_cast<int64_t>(all.size());
  torch::Tensor packed = torch::zeros({count, 5}, torch::kDouble);
  auto access = packed.accessor<double, 2>();
  for (int64_t i = 0; i < count; ++i) {
    const DiscrepancySums& s = *all[i];
    access[i][0] = s.squared_error;
    access[i][1] = s.reference_sq;
    access[i][2] = s.output_sq;
    access[i][3] = s.dot;
    access[i][4] = s.elements;
  }
  group.all_reduce_sum(packed);
  for (int64_t i = 0; i < count; ++i) {
    *all[i] = {access[i][0], access[i][1], access[i][2], access[i][3], access[i][4]};
  }
}

/// One mode's passes over every batch, leaving each layer's sums of this rank.
void run_passes(torch::nn::Module& model, const std::vector<NamedLayer>& layers, int64_t batches,
                const BatchForward& forward, DiscrepancyMode mode) {
  EvalModeGuard eval_mode(model);
  // Captures off and quantize mode on exit, also by exception.
  struct CaptureReset {
    const std::vector<NamedLayer>& layers;
    ~CaptureReset() {
      set_capture(layers, DiscrepancyCapture::kNone);
      set_mode(layers, LayerMode::kQuantize);
    }
  } capture_reset{layers};
  for (const NamedLayer& entry : layers) entry.layer->reset_discrepancy();
  torch::NoGradGuard no_grad;
  for (int64_t batch = 0; batch < batches; ++batch) {
    if (mode == DiscrepancyMode::kIsolated) {
      set_mode(layers, LayerMode::kQuantize);
      set_capture(layers, DiscrepancyCapture::kIsolated);
      forward(batch);
    } else {
      // Per batch, so that only one batch's float outputs are held at a time.
      set_mode(layers, LayerMode::kFloat);
      set_capture(layers, DiscrepancyCapture::kStoreReference);
      forward(batch);
      set_mode(layers, LayerMode::kQuantize);
      set_capture(layers, DiscrepancyCapture::kCompareReference);
      forward(batch);
    }
  }
}

}  // namespace

std::string measure_name(DiscrepancyMode mode, DiscrepancyMetric metric) {
  // The config values of quant.discrepancy_mode and quant.discrepancy_metric.
  static constexpr core::EnumName<DiscrepancyMode> kModes[] = {
      {DiscrepancyMode::kIsolated, "isolated"}, {DiscrepancyMode::kCumulative, "cumulative"}};
  static constexpr core::EnumName<DiscrepancyMetric> kMetrics[] = {
      {DiscrepancyMetric::kMse, "mse"},
      {DiscrepancyMetric::kNmse, "nmse"},
      {DiscrepancyMetric::kCosine, "cosine"}};
  return fmt::format("{}_{}", core::name_of(mode, kModes, "DiscrepancyMode"),
                     core::name_of(metric, kMetrics, "DiscrepancyMetric"));
}

std::vector<std::pair<DiscrepancyMode, DiscrepancyMetric>> all_measures() {
  std::vector<std::pair<DiscrepancyMode, DiscrepancyMetric>> measures;
  for (const DiscrepancyMode mode : {DiscrepancyMode::kIsolated, DiscrepancyMode::kCumulative}) {
    for (const DiscrepancyMetric metric :
         {DiscrepancyMetric::kMse, DiscrepancyMetric::kNmse, DiscrepancyMetric::kCosine}) {
      measures.emplace_back(mode, metric);
    }
  }
  return measures;
}

DiscrepancyTable measure_discrepancy(torch::nn::Module& model,
                                     const std::vector<NamedLayer>& layers, int64_t batches,
                                     const BatchForward& forward, const QuantConfig& config,
                                     core::Collective& group) {
  PTQAT_CHECK(batches >= 1, ConfigError, "discrepancy: expected at least 1 batch, got {}", batches);
  DiscrepancyTable table;
  table.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    QuantizableLayer& layer = *layers[i].layer;
    LayerDiscrepancy row;
    row.name = layers[i].name;
    row.kind = layer.kind();
    row.forward_index = static_cast<int64_t>(i);
    row.parameters = layer.parameter_count();
    row.weight_bits = layer.weight_quantizer()->spec().bits;
    row.input_bits = layer.input_quantizer()->spec().bits;
    row.keep_float = layer.keeps_float();
    row.ranked = !row.keep_float && row.weight_bits == config.weight.bits &&
                 row.input_bits == config.activation.bits;
    table.push_back(row);
  }
  for (const DiscrepancyMode mode : {DiscrepancyMode::kIsolated, DiscrepancyMode::kCumulative}) {
    run_passes(model, layers, batches, forward, mode);
    reduce_sums(layers, group);
    for (size_t i = 0; i < layers.size(); ++i) {
      QuantizableLayer& layer = *layers[i].layer;
      PTQAT_CHECK(layer.discrepancy().elements > 0, Error,
                  "discrepancy: layer '{}' produced no output on the calibration batches",
                  table[i].name);
      for (const auto& [measure_mode, metric] : all_measures()) {
        if (measure_mode != mode) continue;
        table[i].measures[measure_name(mode, metric)] = layer.discrepancy_value(metric);
      }
    }
  }
  const std::string configured = measure_name(config.discrepancy_mode, config.discrepancy_metric);
  for (LayerDiscrepancy& row : table) row.discrepancy = row.measures.at(configured);
  return table;
}

}  // namespace ptqat::quant
