#pragma once
// `ptqat sweep SWEEP.toml [--out RESULTS.h5] [--set key=value ...] [--only NAME ...] [--dry-run]`
// (docs/sweeps.md):
// expands the sweep's grid into run configs, merges their equal stages into one stage graph by
// stage key, and runs what is not recorded yet over groups of ranks (sweeps/scheduler.h).

#include <ostream>
#include <string>
#include <vector>

#include "sweeps/stage_graph.h"

namespace ptqat::runner {

struct SweepOptions {
  std::string sweep_file;
  std::string out;                     ///< the results file; empty: <output.dir>/results.h5
  std::vector<std::string> overrides;  ///< applied to every point
  /// Name prefixes (runner/stage_keys.h, "detection-cnn"): only the points whose last stage's
  /// name starts with one of them are planned; empty: every point.
  std::vector<std::string> only;
  bool dry_run = false;  ///< print the plan, run nothing
};

/// Plans and (unless dry_run) runs the sweep; world rank 0 prints the plan, the progress and the
/// results table to `out`, and each stage's own report goes to <output.dir>/logs/<key>.log.
void run_sweep(const SweepOptions& options, std::ostream& out);

}  // namespace ptqat::runner
