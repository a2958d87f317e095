#pragma once
// `ptqat quantize`: the PTQ / QAT / PTQAT stages of a run config on top of its float model
// (docs/architecture.md "The method in one paragraph"). The calibration stage (PTQ calibration,
// layer discrepancy, evaluation of the PTQ model) is shared by every method of one quantization
// setting; the fine-tune stage (layer selection, QAT of the selected layers, evaluation) runs
// for QAT and PTQAT. A stage already recorded under output.dir is reused, not run again.

#include <torch/torch.h>

#include <ostream>
#include <vector>

#include "datasets/batch.h"
#include "quant/layer_discovery.h"
#include "runner/run_config.h"
#include "runner/stage_context.h"
#include "tasks/task.h"

namespace ptqat::runner {

/// The quantizable layers of `model` in forward order (found with one pass on `batch`),
/// configured by config.quant (bits, observers, first/last and override policies).
std::vector<quant::NamedLayer> configure_quantization(const StageContext& context,
                                                      torch::nn::Module& model,
                                                      const datasets::Batch& batch);

/// Runs the stages of config.quant.method over the ranks of `group`: loads the float checkpoint of `config` from
/// output.dir (an error naming it and `ptqat train` when missing), calibrates on
/// quant.calibration_batches training batches, measures the layer discrepancies, evaluates the
/// PTQ model and, for QAT / PTQAT, selects and fine-tunes the layers with the finetune schedule
/// and evaluates the best fine-tuned checkpoint. Each stage is recorded; a summary goes to
/// `out`. Returns the metrics of the method's final model.
tasks::TaskMetrics run_quantization(const RunConfig& config, core::Collective& group,
                                    std::ostream& out);

}  // namespace ptqat::runner
