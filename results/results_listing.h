#pragma once
// `ptqat results ls RESULTS.h5`: one line per recorded stage.

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

}  // namespace ptqat::results
