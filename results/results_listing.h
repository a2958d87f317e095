#pragma once
// `ptqat results ls RESULTS.h5` and `ptqat results export --csv FILE`: one line per recorded
// stage.

#include <string>
#include <vector>

#include "results/results_store.h"

namespace ptqat::results {

/// A table of `runs`: key, stage, method, parent key, NDS / mAP / mIoU where recorded,
/// trainable parameters, wall time, finish time; in the order given.
std::string results_table(const std::vector<RunRecord>& runs);

/// `results ls --json`: one JSON object per line and run, for scripts (scripts/gpu-check.sh):
/// key, parent_key, stage, task, method, metrics, trainable_parameters, wall_time_s,
/// peak_host_memory_bytes, peak_device_memory_bytes and train_steps (the steps of its loss
/// history).
std::string results_json_lines(const std::vector<RunRecord>& runs);

/// `results export --csv`: a header, then one row per run with its identity and settings (key,
/// parent_key, stage, task, model, method, weight_bits, activation_bits, freeze_ratio, rule,
/// discrepancy_metric, discrepancy_mode, quant_seed, float_seed, label), every metric of any run
/// under its own name (empty where a run has none), and its costs (wall_s, train_s, attempts,
/// peak_bytes, peak_device_bytes, trainable_params), then finished_at. One study, one
/// `pandas.read_csv` (docs/results.md).
std::string results_csv(const std::vector<RunRecord>& runs);

/// `text` as one CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text);

}  // namespace ptqat::results
