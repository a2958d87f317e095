#pragma once
// Layer selection for fine-tuning: PTQ (freeze all), QAT (train all), PTQAT (freeze a ratio of
// the layers ranked by discrepancy) and its ablations; then freezing the model accordingly.

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "quant/discrepancy.h"
#include "quant/layer_discovery.h"
#include "quant/quant_config.h"

namespace ptqat::quant {

struct SelectionOptions {
  QuantMethod method = QuantMethod::kPtqat;
  double freeze_ratio = 0.5;
  SelectionRule rule = SelectionRule::kSmallest;
  FreezeBy freeze_by = FreezeBy::kLayers;
  uint64_t seed = 0;  ///< kRandom only.
};

/// Options from the config; select_seed -1 means the fine-tune seed, config.seed.
SelectionOptions selection_options(const QuantConfig& config);

/// Which rows of a discrepancy table are frozen.
struct LayerSelection {
  std::vector<bool> frozen;  ///< Aligned with the table's rows.
  int64_t frozen_layers = 0;
  int64_t frozen_parameters = 0;
  int64_t total_parameters = 0;  ///< Sum of the ranked rows' parameters.
};

/// Selects the frozen layers. kPtq: all; kQat: none; kPtqat: among the ranked rows only (a layer
/// whose precision a policy holds is never frozen and not counted), rule order is descending
/// discrepancy for kSmallest (freeze the largest first), ascending for kLargest, a seeded
/// permutation for kRandom (ties broken by forward index); kLayers freezes the first
/// floor(freeze_ratio * n + 0.5) of the n ranked layers in that order, kParams freezes in that
/// order until the frozen parameters reach freeze_ratio of the ranked layers' total. The result
/// depends only on the table and the options (same on every rank and platform).
LayerSelection select_layers(const DiscrepancyTable& table, const SelectionOptions& options);

/// How far the choice of measure decides the frozen set: for each measure of the rows (by
/// measure_name()), the Jaccard index |A n B| / |A u B| of `selection` (A) and the selection the
/// same options make when the rows' discrepancy is that measure (B); 1 when both are empty.
std::map<std::string, double> frozen_set_overlaps(const DiscrepancyTable& table,
                                                  const SelectionOptions& options,
                                                  const LayerSelection& selection);

/// Applies a selection: frozen rows freeze() (PTQ state), the others unfreeze() with
/// `bn_statistics`; marks the table's `frozen` column. With method kPtq every parameter of the
/// model stops requiring grad (nothing is fine-tuned). Returns trainable_parameter_count(model).
int64_t apply_selection(torch::nn::Module& model, const std::vector<NamedLayer>& layers,
                        const LayerSelection& selection, QuantMethod method,
                        BnStatistics bn_statistics, DiscrepancyTable& table);

/// Elements of the model's parameters that require grad: the weights, biases, BatchNorm affine
/// and learnable scales of trainable layers plus every parameter outside quantizable layers.
int64_t trainable_parameter_count(torch::nn::Module& model);

}  // namespace ptqat::quant
