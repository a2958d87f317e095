#include "quant/selection.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_set>

namespace ptqat::quant {

namespace {

/// Indices of the ranked rows of `table` ordered by forward index (the row order is the caller's;
/// the rule order must not depend on it).
std::vector<size_t> ranked_rows_by_forward_index(const DiscrepancyTable& table) {
  std::vector<size_t> order;
  for (size_t row = 0; row < table.size(); ++row) {
    if (table[row].ranked) order.push_back(row);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return table[a].forward_index < table[b].forward_index;
  });
  return order;
}

/// The order in which PTQAT freezes the ranked rows: the first rows of it are frozen.
std::vector<size_t> freeze_order(const DiscrepancyTable& table, const SelectionOptions& options) {
  std::vector<size_t> order = ranked_rows_by_forward_index(table);
  switch (options.rule) {
    case SelectionRule::kSmallest:
      // Freeze the largest discrepancies first: the smallest ones stay trainable.
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return table[a].discrepancy > table[b].discrepancy;
      });
      break;
    case SelectionRule::kLargest:
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return table[a].discrepancy < table[b].discrepancy;
      });
      break;
    case SelectionRule::kRandom: {
      // Fisher-Yates over the rows in forward order, drawing raw mt19937_64 outputs. The engine's
      // output sequence is fixed by the C++ standard, but std::shuffle and
      // std::uniform_int_distribution are implementation-defined (libstdc++ and libc++ draw
      // differently), and the selection must be the same on every rank and platform. The modulo
      // bias is at most (i + 1) / 2^64, below 1e-16 for any layer count.
      std::mt19937_64 engine(options.seed);
      for (size_t i = order.size(); i > 1; --i) {
        const size_t j = static_cast<size_t>(engine() % i);
        std::swap(order[i - 1], order[j]);
      }
      break;
    }
  }
  return order;
}

}  // namespace

SelectionOptions selection_options(const QuantConfig& config) {
  SelectionOptions options;
  options.method = config.method;
  options.freeze_ratio = config.freeze_ratio;
  options.rule = config.rule;
  options.freeze_by = config.freeze_by;
  options.seed = static_cast<uint64_t>(config.select_seed < 0 ? config.seed : config.select_seed);
  return options;
}

LayerSelection select_layers(const DiscrepancyTable& table, const SelectionOptions& options) {
  PTQAT_CHECK(options.freeze_ratio >= 0.0 && options.freeze_ratio <= 1.0, ConfigError,
              "quant.freeze_ratio: expected a number in [0, 1], got {}", options.freeze_ratio);
  for (const LayerDiscrepancy& row : table) {
    // A NaN would break the sort's strict weak ordering (and say nothing about the layer).
    PTQAT_CHECK(!std::isnan(row.discrepancy), Error,
                "layer selection: discrepancy of layer '{}' is NaN", row.name);
  }

  LayerSelection selection;
  selection.frozen.assign(table.size(), false);
  for (const LayerDiscrepancy& row : table) {
    if (row.ranked) selection.total_parameters += row.parameters;
  }

  auto freeze = [&](size_t row) {
    selection.frozen[row] = true;
    selection.frozen_layers += 1;
    selection.frozen_parameters += table[row].parameters;
  };

  switch (options.method) {
    case QuantMethod::kPtq:
      for (size_t row = 0; row < table.size(); ++row) freeze(row);
      return selection;
    case QuantMethod::kQat:
      return selection;
    case QuantMethod::kPtqat:
      break;
  }

  const std::vector<size_t> order = freeze_order(table, options);
  PTQAT_CHECK(!order.empty(), Error,
              "layer selection: method ptqat needs at least one ranked layer, the discrepancy "
              "table has {} layers and a policy holds the precision of each",
              table.size());
  const auto layers = static_cast<double>(order.size());
  if (options.freeze_by == FreezeBy::kLayers) {
    // Round half up: ratio 0.5 of 5 layers freezes 3.
    const auto count = std::min(
        static_cast<size_t>(std::floor(options.freeze_ratio * layers + 0.5)), order.size());
    for (size_t k = 0; k < count; ++k) freeze(order[k]);
  } else {
    // Include layers until the frozen parameters reach the ratio: the layer that crosses
    // freeze_ratio * total is frozen, the next is not. Ratio 0 freezes nothing; ratio 1 all.
    const double target = options.freeze_ratio * static_cast<double>(selection.total_parameters);
    for (size_t row : order) {
      const bool reached = static_cast<double>(selection.frozen_parameters) >= target;
      if (reached && options.freeze_ratio < 1.0) break;
      freeze(row);
    }
  }
  return selection;
}

std::map<std::string, double> frozen_set_overlaps(const DiscrepancyTable& table,
                                                  const SelectionOptions& options,
                                                  const LayerSelection& selection) {
  std::map<std::string, double> overlaps;
  for (const auto& [mode, metric] : all_measures()) {
    const std::string measure = measure_name(mode, metric);
    DiscrepancyTable other = table;
    for (LayerDiscrepancy& row : other) {
      const auto found = row.measures.find(measure);
      PTQAT_CHECK(found != row.measures.end(), DataError,
                  "layer selection: layer '{}' has no '{}' discrepancy", row.name, measure);
      row.discrepancy = found->second;
    }
    const LayerSelection alternative = select_layers(other, options);
    int64_t both = 0;
    int64_t either = 0;
    for (size_t row = 0; row < table.size(); ++row) {
      both += selection.frozen[row] && alternative.frozen[row] ? 1 : 0;
      either += selection.frozen[row] || alternative.frozen[row] ? 1 : 0;
    }
    overlaps[measure] = either == 0 ? 1.0 : static_cast<double>(both) / static_cast<double>(either);
  }
  return overlaps;
}

int64_t apply_selection(torch::nn::Module& model, const std::vector<NamedLayer>& layers,
                        const LayerSelection& selection, QuantMethod method,
                        BnStatistics bn_statistics, DiscrepancyTable& table) {
  PTQAT_ASSERT(layers.size() == selection.frozen.size() && layers.size() == table.size(),
               "apply_selection: {} layers, {} selection rows, {} table rows", layers.size(),
               selection.frozen.size(), table.size());
  for (size_t row = 0; row < layers.size(); ++row) {
    PTQAT_ASSERT(layers[row].name == table[row].name,
                 "apply_selection: layer {} is '{}' but table row {} is '{}'", row,
                 layers[row].name, row, table[row].name);
    // PTQ fine-tunes nothing: every layer stays at its PTQ state whatever the selection says.
    const bool frozen = method == QuantMethod::kPtq || selection.frozen[row];
    QuantizableLayer& layer = *layers[row].layer;
    if (frozen) {
      layer.freeze();
    } else {
      layer.unfreeze();
      layer.set_bn_statistics(bn_statistics);
    }
    table[row].frozen = frozen;
  }
  if (method == QuantMethod::kPtq) {
    // Also the parameters outside quantizable layers (e.g. a float head): nothing trains.
    for (torch::Tensor& parameter : model.parameters(/*recurse=*/true)) {
      parameter.set_requires_grad(false);
    }
  }
  return trainable_parameter_count(model);
}

int64_t trainable_parameter_count(torch::nn::Module& model) {
  // A parameter shared by two submodules appears under both names: count it once.
  std::unordered_set<const c10::TensorImpl*> seen;
  int64_t count = 0;
  for (const torch::Tensor& parameter : model.parameters(/*recurse=*/true)) {
    if (!parameter.requires_grad()) continue;
    if (!seen.insert(parameter.unsafeGetTensorImpl()).second) continue;
    count += parameter.numel();
  }
  return count;
}

}  // namespace ptqat::quant
