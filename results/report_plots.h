#pragma once
// `ptqat report --plots DIR`: the report's figures as PNG, PDF and SVG, drawn by gnuplot
// (Debian's gnuplot-nox). Each figure's gnuplot script, with its data inline, is written beside
// it, so a user can restyle and re-render it from anywhere (`gnuplot DIR/<figure>.gp`).
//
// - ablation_<model>_<bits>: the primary metric vs freeze ratio, a line per selection rule (one
//   per ablation table of results/report.h), e.g. ablation_detection-cnn_w4a8.png.
// - layers_<stage name>: per-layer discrepancy of a PTQAT fine-tune in forward order (log scale),
//   layer names on the axis, fine-tuned and frozen layers in two colours, e.g.
//   layers_detection-cnn_w4a8_ptqat-0.50-smallest_seed0.png.

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
