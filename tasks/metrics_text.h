#pragma once
// The metrics of an evaluation as text for the console.

#include <string>

#include "tasks/task.h"

namespace ptqat::tasks {

/// "mAP 0.1234  NDS 0.2345 ...", or a note when the split had no ground truth.
std::string summary_line(const TaskMetrics& metrics);

/// The metrics as an aligned two-column table, then the per-class values as one more table.
std::string metrics_table(const TaskMetrics& metrics);

}  // namespace ptqat::tasks
