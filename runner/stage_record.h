#pragma once
// What the runner writes into a stage's record beyond identity and costs (runner/stage_run.h):
// the labels reports group runs by, and quant's per-layer table in the recorded form.

#include <string>

#include "quant/discrepancy.h"
#include "results/results_store.h"
#include "runner/run_config.h"

namespace ptqat::runner {

/// What a report groups and labels a run of `config` by, recorded for `method` ("float", "ptq",
/// "qat", "ptqat"); `primary_metric` is the task's.
results::RunLabels record_labels(const RunConfig& config, const std::string& method,
                                 const std::string& primary_metric);

/// quant's per-layer table as recorded, and back (DataError naming an unknown layer kind).
/// The metrics of a record, for the summary of a reused stage.
tasks::TaskMetrics recorded_metrics(const results::RunRecord& record);

std::vector<results::LayerRow> layer_rows(const quant::DiscrepancyTable& table);
quant::DiscrepancyTable discrepancy_table(const std::vector<results::LayerRow>& rows);

}  // namespace ptqat::runner
