#pragma once
// `ptqat report RESULTS.h5 [--format md|latex|csv] [--plots DIR]` (docs/sweeps.md "Reports"): the
// paper-style tables of a results file. Runs that differ only in their seeds are one row, shown
// as mean ± standard deviation (n) over the seeds.
//
// - One comparison table per task and float model: float, PTQ, full QAT and every PTQAT variant
//   per bit setting, with the task's headline metrics, the primary metric's paired difference
//   to full QAT (same float model, same fine-tune seed; results/statistics.h), trainable
//   parameters, training and stage wall time and peak host memory.
// - The claims: one line per claim of the paper and calibration, with the paired effect, its
//   interval, n and a verdict.
// - One ablation table per calibration that has PTQAT runs: the primary metric per freeze ratio
//   (rows, from 0 = full QAT to 1 = PTQ) and selection rule (columns).

#include <string>
#include <vector>

#include "results/results_store.h"
#include "results/statistics.h"

namespace ptqat::results {

enum class ReportFormat { kMarkdown, kLatex, kCsv };

/// "md", "latex", "csv"; ConfigError naming the value otherwise.
ReportFormat parse_report_format(const std::string& name);

/// A cell: text; a statistic over seeds (rendered "m ± s (n)", in CSV as the columns "<c>",
/// "<c> std", "<c> n"); or a paired difference (rendered "+d [low, high] (n)", in CSV as "<c>",
/// "<c> low", "<c> high", "<c> n"). A column holds one kind of cell.
struct ReportCell {
  enum class Kind { kText, kStat, kPaired } kind = Kind::kText;
  std::string text;
  SeedStats stat;
  PairedStats paired;
  int decimals = 4;  ///< of a statistic, in Markdown and LaTeX
};

struct ReportTable {
  /// kOverlap: per PTQAT fine-tune, the Jaccard overlap of its frozen set with the one each
  /// discrepancy measure would have selected (RunRecord::frozen_overlap).
  /// kClaims: the paper's claims, a line each: the paired effect, its interval, n and a verdict.
  /// kLeftOut: the records the other tables leave out, a line each, and why.
  enum class Kind { kComparison, kAblation, kOverlap, kClaims, kLeftOut } kind = Kind::kComparison;
  std::string title;
  std::string value_name;  ///< ablation: the metric its cells hold
  std::string slug;        ///< ablation: what its figure's file is named by, "detection-cnn_w4a8"
  std::vector<std::string> header;
  std::vector<std::vector<ReportCell>> rows;
};

/// The comparison and ablation tables of `runs` (records of any stages; evaluate records are
/// left out). A record made from an earlier version of a stage it continues (its parent was
/// recorded again since, say after its checkpoint was lost) would pair with the newer version's
/// stages: such records are left out of every table and listed in a last kLeftOut table.
/// DataError naming the run when a record's config cannot be read.
std::vector<ReportTable> report_tables(const std::vector<RunRecord>& runs);

/// The tables as Markdown (### title, pipe table) or LaTeX (booktabs table environments); as
/// CSV, the comparison tables (which share one header) as one table for pandas and friends, with
/// a "table" column first and each statistic as "<column>" and "<column> std". The ablation
/// tables are views of the same rows and are left out of the CSV.
std::string render_report(const std::vector<ReportTable>& tables, ReportFormat format);

}  // namespace ptqat::results
