#include "runner/stage_record.h"

#include <fmt/format.h>

#include <cctype>

#include "core/error.h"
#include "quant/quantizable_layer.h"
#include "quant/selection.h"
#include "runner/stage_keys.h"

namespace ptqat::runner {

results::RunLabels record_labels(const RunConfig& config, const std::string& method,
                                 const std::string& primary_metric) {
  const quant::QuantConfig& quant = config.quant;
  results::RunLabels labels;
  labels.model = config.model.encoder == "second"
                     ? config.task
                     : fmt::format("{}, {} encoder", config.task, config.model.encoder);
  labels.bits = fmt::format("W{}A{}", quant.weight.bits, quant.activation.bits);
  // A float model is 32-bit whatever the quant section of the config that trained it says.
  const bool float_model = method == "float";
  labels.weight_bits = float_model ? 32 : quant.weight.bits;
  labels.activation_bits = float_model ? 32 : quant.activation.bits;
  labels.rule = quant.rule == quant::SelectionRule::kRandom
                    ? fmt::format("random({})", quant::selection_options(quant).seed)
                    : quant::rule_name(quant.rule);
  labels.freeze_ratio = quant.freeze_ratio;
  labels.discrepancy_metric = quant::discrepancy_metric_name(quant.discrepancy_metric);
  labels.discrepancy_mode = quant::discrepancy_mode_name(quant.discrepancy_mode);
  labels.float_seed = config.seed;
  labels.quant_seed = quant.seed;
  if (method == "ptqat") {
    labels.label = fmt::format("PTQAT {:g} {}", quant.freeze_ratio, labels.rule);
  } else {
    labels.label = method;  // "float", or PTQ and QAT by their names
    if (!float_model) {
      for (char& c : labels.label)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  const StageNames names = stage_names(config);
  labels.name = float_model       ? names.float_train
                : method == "ptq" ? names.calibrate
                                  : names.fine_tune;
  labels.epochs = config.train.epochs;
  labels.primary_metric = primary_metric;
  // Runs that differ only in their seeds share these: one row of a report, statistics over the
  // float seeds and the fine-tune seeds.
  RunConfig seedless = config;
  seedless.seed = 0;
  seedless.quant.seed = 0;
  const StageKeys groups = stage_keys(seedless);
  labels.float_group = groups.float_train;
  labels.calibrate_group = groups.calibrate;
  labels.fine_tune_group = groups.fine_tune;
  return labels;
}

namespace {

/// The columns quant's table and the recorded one share (all but the layer kind's type).
template <class From, class To>
To with_common_columns(const From& from) {
  To to;
  to.name = from.name;
  to.forward_index = from.forward_index;
  to.parameters = from.parameters;
  to.weight_bits = from.weight_bits;
  to.input_bits = from.input_bits;
  to.keep_float = from.keep_float;
  to.ranked = from.ranked;
  to.discrepancy = from.discrepancy;
  to.measures = from.measures;
  to.frozen = from.frozen;
  return to;
}

}  // namespace

tasks::TaskMetrics recorded_metrics(const results::RunRecord& record) {
  tasks::TaskMetrics metrics;
  metrics.scalars = record.metrics;
  metrics.class_names = record.class_names;
  metrics.per_class = record.per_class;
  metrics.has_ground_truth = !record.metrics.empty();
  return metrics;
}

std::vector<results::LayerRow> layer_rows(const quant::DiscrepancyTable& table) {
  std::vector<results::LayerRow> rows;
  for (const quant::LayerDiscrepancy& layer : table) {
    rows.push_back(with_common_columns<quant::LayerDiscrepancy, results::LayerRow>(layer));
    rows.back().kind = quant::layer_kind_name(layer.kind);
  }
  return rows;
}

quant::DiscrepancyTable discrepancy_table(const std::vector<results::LayerRow>& rows) {
  quant::DiscrepancyTable table;
  for (const results::LayerRow& row : rows) {
    table.push_back(with_common_columns<results::LayerRow, quant::LayerDiscrepancy>(row));
    const std::optional<quant::LayerKind> kind = quant::layer_kind_from_name(row.kind);
    PTQAT_CHECK(kind.has_value(), DataError, "layers/kind: unknown layer kind '{}'", row.kind);
    table.back().kind = *kind;
  }
  return table;
}

}  // namespace ptqat::runner
