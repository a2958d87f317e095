#pragma once
// `ptqat report --plots DIR`: the report's figures as PNG, drawn by gnuplot (Debian's
// gnuplot-nox): a data file and a gnuplot script per figure are written next to the PNG, so a
// user can restyle a figure without ptqat.
//
// - ablation_<table>.png: the primary metric vs freeze ratio, a line per selection rule (one
//   per ablation table of results/report.h).
// - layers_<key>.png: per-layer discrepancy of a PTQAT fine-tune in forward order (log scale),
//   trainable and frozen layers in two colours.

#include <string>
#include <vector>

#include "results/report.h"
#include "results/results_store.h"

namespace ptqat::results {

/// Writes every figure into `dir` (created if missing) and returns the PNG paths. IoError when
/// gnuplot is missing (naming the package) or fails (with its message).
std::vector<std::string> write_report_plots(const std::vector<RunRecord>& runs,
                                            const std::vector<ReportTable>& tables,
                                            const std::string& dir);

}  // namespace ptqat::results
