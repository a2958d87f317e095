#pragma once
// `ptqat results ls RESULTS.h5`: one line per recorded stage.

#include <string>
#include <vector>

#include "runner/results_store.h"

namespace ptqat::runner {

/// A table of `runs`: key, stage, method, parent key, NDS / mAP / mIoU where recorded,
/// trainable parameters, wall time, finish time; in the order given.
std::string results_table(const std::vector<RunRecord>& runs);

}  // namespace ptqat::runner
