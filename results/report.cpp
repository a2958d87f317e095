#include "results/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "core/error.h"

namespace ptqat::results {
namespace {

/// The headline metrics of the built-in tasks, in the order the tables show them after the
/// table's primary metric.
const std::vector<std::string> kHeadline = {"NDS", "mAP", "mIoU"};

/// Runs that differ only in their seed: one row of a table.
struct Variant {
  std::string stage;
  std::string method;
  RunLabels labels;  ///< the first run's; the group keys are what the runs share
  std::vector<const RunRecord*> runs;

  /// `value` of every run that has one, over the seeds.
  SeedStats over_seeds(const std::function<std::optional<double>(const RunRecord&)>& value) const {
    std::vector<double> values;
    for (const RunRecord* run : runs) {
      if (const std::optional<double> v = value(*run)) values.push_back(*v);
    }
    return seed_stats(values);
  }
  SeedStats stat(const std::string& metric) const {
    return over_seeds([&](const RunRecord& run) -> std::optional<double> {
      const auto found = run.metrics.find(metric);
      if (found == run.metrics.end()) return std::nullopt;
      return found->second;
    });
  }
};

ReportCell text(std::string value) { return {std::move(value), false, {}, 0}; }
ReportCell stat(SeedStats value, int decimals = 4) { return {"", true, value, decimals}; }

/// Groups the runs by stage and seedless stage key, in key order.
std::map<std::string, Variant> variants_of(const std::vector<RunRecord>& runs) {
  std::map<std::string, Variant> variants;
  for (const RunRecord& run : runs) {
    if (run.stage != "float_train" && run.stage != "calibrate" && run.stage != "fine_tune")
      continue;
    const RunLabels& labels = run.labels;
    const std::string& key = run.stage == "float_train" ? labels.float_group
                             : run.stage == "calibrate" ? labels.calibrate_group
                                                        : labels.fine_tune_group;
    PTQAT_CHECK(!key.empty() && !labels.primary_metric.empty(), DataError,
                "run {}: the record has no report labels (written by a ptqat before 0.2); "
                "record the stage again",
                run.key);
    Variant& variant = variants[key];
    if (variant.runs.empty()) {
      variant.stage = run.stage;
      variant.method = run.method;
      variant.labels = labels;
    }
    variant.runs.push_back(&run);
  }
  return variants;
}

/// The metrics of a float model's table: its task's primary metric first, then the other
/// headline metrics its stages have.
std::vector<std::string> table_metrics(const Variant& model,
                                       const std::vector<const Variant*>& family) {
  std::vector<std::string> metrics = {model.labels.primary_metric};
  for (const std::string& name : kHeadline) {
    const bool present = std::any_of(family.begin(), family.end(), [&](const Variant* variant) {
      return std::any_of(variant->runs.begin(), variant->runs.end(),
                         [&](const RunRecord* run) { return run->metrics.count(name) != 0; });
    });
    if (present && std::find(metrics.begin(), metrics.end(), name) == metrics.end()) {
      metrics.push_back(name);
    }
  }
  return metrics;
}

std::string delta_text(const SeedStats& value, const SeedStats& reference) {
  if (value.count == 0 || reference.count == 0) return "";
  return fmt::format("{:+.4f}", value.mean - reference.mean);
}

}  // namespace

ReportFormat parse_report_format(const std::string& name) {
  if (name == "md") return ReportFormat::kMarkdown;
  if (name == "latex") return ReportFormat::kLatex;
  if (name == "csv") return ReportFormat::kCsv;
  PTQAT_FAIL(ConfigError, "--format '{}': expected md, latex or csv", name);
}

SeedStats seed_stats(const std::vector<double>& values) {
  SeedStats result;
  result.count = values.size();
  if (values.empty()) return result;
  double sum = 0;
  for (const double value : values) sum += value;
  result.mean = sum / static_cast<double>(values.size());
  if (values.size() > 1) {
    double squares = 0;
    for (const double value : values) squares += (value - result.mean) * (value - result.mean);
    result.stddev = std::sqrt(squares / static_cast<double>(values.size() - 1));
  }
  return result;
}

namespace {

/// The columns of a float model's comparison table and how a row fills them.
struct ComparisonColumns {
  std::vector<std::string> metrics;  ///< the primary metric first
  bool on_gpu = false;               ///< runs on a GPU also get their peak GPU memory

  std::vector<std::string> header() const {
    std::vector<std::string> header = {"method", "bits", "freeze", "rule"};
    header.insert(header.end(), metrics.begin(), metrics.end());
    header.insert(header.end(), {"Δ " + metrics.front() + " vs QAT", "trainable params", "train s",
                                 "wall s", "peak MiB"});
    if (on_gpu) header.emplace_back("GPU peak MiB");
    header.emplace_back("seeds");
    return header;
  }

  std::vector<ReportCell> row(const Variant& variant, const std::string& method,
                              const std::string& bits, const std::string& freeze,
                              const std::string& rule, const std::string& delta) const {
    std::vector<ReportCell> row = {text(method), text(bits), text(freeze), text(rule)};
    for (const std::string& metric : metrics) row.push_back(stat(variant.stat(metric)));
    row.push_back(text(delta));
    row.push_back(stat(variant.over_seeds([](const RunRecord& run) {
      return static_cast<double>(run.trainable_parameters);
    }),
                       0));
    row.push_back(
        stat(variant.over_seeds([](const RunRecord& run) { return run.train_time_s; }), 1));
    row.push_back(
        stat(variant.over_seeds([](const RunRecord& run) { return run.wall_time_s; }), 1));
    row.push_back(stat(variant.over_seeds([](const RunRecord& run) {
      return static_cast<double>(run.peak_host_memory_bytes) / (1024.0 * 1024.0);
    }),
                       0));
    if (on_gpu) {
      row.push_back(stat(variant.over_seeds([](const RunRecord& run) {
        return static_cast<double>(run.peak_device_memory_bytes) / (1024.0 * 1024.0);
      }),
                         0));
    }
    row.push_back(text(std::to_string(variant.runs.size())));
    return row;
  }
};

/// A calibration and its fine-tunes: full QAT, and PTQAT by freeze ratio, then rule.
struct CalibrationFamily {
  const Variant* calibration = nullptr;
  const Variant* qat = nullptr;
  std::vector<const Variant*> ptqat;
};

CalibrationFamily family_of(const std::map<std::string, Variant>& variants,
                            const std::string& calibrate_key, const Variant& calibration) {
  CalibrationFamily family;
  family.calibration = &calibration;
  for (const auto& [key, fine_tune] : variants) {
    if (fine_tune.stage != "fine_tune" || fine_tune.labels.calibrate_group != calibrate_key)
      continue;
    if (fine_tune.method == "qat") {
      family.qat = &fine_tune;
    } else {
      family.ptqat.push_back(&fine_tune);
    }
  }
  std::sort(family.ptqat.begin(), family.ptqat.end(), [](const Variant* a, const Variant* b) {
    if (a->labels.freeze_ratio != b->labels.freeze_ratio) {
      return a->labels.freeze_ratio < b->labels.freeze_ratio;
    }
    return a->labels.rule < b->labels.rule;
  });
  return family;
}

/// The primary metric by freeze ratio (rows, 0 = full QAT to 1 = PTQ) and rule (columns).
ReportTable ablation_table(const CalibrationFamily& family, const std::string& title,
                           const std::string& primary) {
  ReportTable ablation;
  ablation.kind = ReportTable::Kind::kAblation;
  ablation.value_name = primary;
  ablation.title = title;
  std::vector<std::string> rules;
  std::set<double> ratios = {0.0, 1.0};
  for (const Variant* variant : family.ptqat) {
    if (std::find(rules.begin(), rules.end(), variant->labels.rule) == rules.end()) {
      rules.push_back(variant->labels.rule);
    }
    ratios.insert(variant->labels.freeze_ratio);
  }
  ablation.header = {"freeze ratio"};
  ablation.header.insert(ablation.header.end(), rules.begin(), rules.end());
  for (const double ratio : ratios) {
    std::vector<ReportCell> row = {text(fmt::format("{:g}", ratio))};
    for (const std::string& rule : rules) {
      const Variant* found = nullptr;
      for (const Variant* variant : family.ptqat) {
        if (variant->labels.freeze_ratio == ratio && variant->labels.rule == rule) found = variant;
      }
      // Freezing nothing is full QAT, freezing everything is PTQ, whatever the rule.
      if (ratio == 0.0 && found == nullptr) found = family.qat;
      if (ratio == 1.0 && found == nullptr) found = family.calibration;
      row.push_back(found ? stat(found->stat(primary)) : text(""));
    }
    ablation.rows.push_back(std::move(row));
  }
  return ablation;
}

/// Per PTQAT fine-tune (rows: freeze ratio, rule), the mean Jaccard overlap of its frozen set with
/// the one each measure (columns) selects; empty when no fine-tune recorded overlaps.
ReportTable overlap_table(const CalibrationFamily& family, const std::string& title) {
  ReportTable overlaps;
  overlaps.kind = ReportTable::Kind::kOverlap;
  overlaps.title = title;
  std::set<std::string> measures;
  for (const Variant* variant : family.ptqat) {
    for (const RunRecord* run : variant->runs) {
      for (const auto& [measure, value] : run->frozen_overlap) measures.insert(measure);
    }
  }
  if (measures.empty()) return overlaps;
  overlaps.header = {"freeze ratio", "rule"};
  overlaps.header.insert(overlaps.header.end(), measures.begin(), measures.end());
  for (const Variant* variant : family.ptqat) {
    std::vector<ReportCell> row = {text(fmt::format("{:g}", variant->labels.freeze_ratio)),
                                   text(variant->labels.rule)};
    for (const std::string& measure : measures) {
      row.push_back(stat(variant->over_seeds([&](const RunRecord& run) -> std::optional<double> {
        const auto found = run.frozen_overlap.find(measure);
        if (found == run.frozen_overlap.end()) return std::nullopt;
        return found->second;
      }),
                         2));
    }
    overlaps.rows.push_back(std::move(row));
  }
  return overlaps;
}

}  // namespace

std::vector<ReportTable> report_tables(const std::vector<RunRecord>& runs) {
  const std::map<std::string, Variant> variants = variants_of(runs);
  std::vector<ReportTable> tables;
  std::vector<ReportTable> ablations;
  std::vector<ReportTable> overlaps;
  for (const auto& [float_key, model] : variants) {
    if (model.stage != "float_train") continue;
    // The stages of this float model: what its table and ablations show.
    std::vector<const Variant*> stages = {&model};
    for (const auto& [key, variant] : variants) {
      if (variant.stage != "float_train" && variant.labels.float_group == float_key) {
        stages.push_back(&variant);
      }
    }
    ComparisonColumns columns;
    columns.metrics = table_metrics(model, stages);
    const std::string& primary = columns.metrics.front();
    columns.on_gpu = std::any_of(stages.begin(), stages.end(), [](const Variant* variant) {
      return std::any_of(variant->runs.begin(), variant->runs.end(),
                         [](const RunRecord* run) { return run->peak_device_memory_bytes > 0; });
    });

    ReportTable table;
    table.title = fmt::format("{}: float model {} ({} epochs)", model.labels.model,
                              float_key.substr(0, 8), model.labels.epochs);
    table.header = columns.header();
    table.rows.push_back(columns.row(model, "float", "-", "-", "-", ""));
    for (const auto& [calibrate_key, calibration] : variants) {
      if (calibration.stage != "calibrate" || calibration.labels.float_group != float_key) continue;
      const CalibrationFamily family = family_of(variants, calibrate_key, calibration);
      const std::string& bits = calibration.labels.bits;
      const SeedStats reference = family.qat ? family.qat->stat(primary) : SeedStats{};
      table.rows.push_back(columns.row(calibration, "PTQ", bits, "1", "-",
                                       delta_text(calibration.stat(primary), reference)));
      if (family.qat)
        table.rows.push_back(columns.row(*family.qat, "full QAT", bits, "0", "-", ""));
      for (const Variant* variant : family.ptqat) {
        table.rows.push_back(
            columns.row(*variant, "PTQAT", bits, fmt::format("{:g}", variant->labels.freeze_ratio),
                        variant->labels.rule, delta_text(variant->stat(primary), reference)));
      }
      if (family.ptqat.empty()) continue;
      ablations.push_back(
          ablation_table(family,
                         fmt::format("{}: {} vs freeze ratio and selection rule, {} of model {}",
                                     model.labels.model, primary, bits, float_key.substr(0, 8)),
                         primary));
      ReportTable overlap = overlap_table(
          family, fmt::format("{}: overlap (Jaccard) of the frozen set with the one each "
                              "discrepancy measure selects, {} of model {}",
                              model.labels.model, bits, float_key.substr(0, 8)));
      if (!overlap.rows.empty()) overlaps.push_back(std::move(overlap));
    }
    tables.push_back(std::move(table));
  }
  tables.insert(tables.end(), ablations.begin(), ablations.end());
  tables.insert(tables.end(), overlaps.begin(), overlaps.end());
  return tables;
}

namespace {

std::string stat_text(const ReportCell& cell, bool latex) {
  if (cell.stat.count == 0) return "";
  const std::string mean = fmt::format("{:.{}f}", cell.stat.mean, cell.decimals);
  if (cell.stat.count == 1) return mean;
  return mean + (latex ? " $\\pm$ " : " ± ") +
         fmt::format("{:.{}f}", cell.stat.stddev, cell.decimals);
}

std::string latex_escape(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '_' || c == '%' || c == '&' || c == '#') escaped += '\\';
    escaped += c;
  }
  // The Greek capital delta of the delta column, as LaTeX.
  const std::string delta = "Δ";
  for (size_t at = escaped.find(delta); at != std::string::npos; at = escaped.find(delta)) {
    escaped.replace(at, delta.size(), "$\\Delta$");
  }
  return escaped;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

std::string render_report(const std::vector<ReportTable>& tables, ReportFormat format) {
  std::string out;
  if (format == ReportFormat::kCsv) {
    bool header_written = false;
    for (const ReportTable& table : tables) {
      if (table.kind != ReportTable::Kind::kComparison) continue;
      if (!header_written) {
        out += "table";
        for (size_t c = 0; c < table.header.size(); ++c) {
          out += ",";
          out += csv_field(table.header[c]);
          if (!table.rows.empty() && table.rows.front()[c].is_stat) {
            out += ",";
            out += csv_field(table.header[c] + " std");
          }
        }
        out += "\n";
        header_written = true;
      }
      for (const auto& row : table.rows) {
        out += csv_field(table.title);
        for (const ReportCell& cell : row) {
          if (!cell.is_stat) {
            out += ",";
            out += csv_field(cell.text);
          } else if (cell.stat.count == 0) {
            out += ",,";
          } else {
            out += fmt::format(",{:.6g},{:.6g}", cell.stat.mean, cell.stat.stddev);
          }
        }
        out += "\n";
      }
    }
    return out;
  }
  const bool latex = format == ReportFormat::kLatex;
  for (const ReportTable& table : tables) {
    std::vector<std::vector<std::string>> cells;
    for (const auto& row : table.rows) {
      std::vector<std::string> line;
      for (const ReportCell& cell : row) {
        line.push_back(cell.is_stat ? stat_text(cell, latex)
                                    : (latex ? latex_escape(cell.text) : cell.text));
      }
      cells.push_back(std::move(line));
    }
    if (latex) {
      out += "\\begin{table}[t]\n\\centering\n\\caption{" + latex_escape(table.title) + "}\n";
      out += "\\begin{tabular}{l" + std::string(table.header.size() - 1, 'r') + "}\n\\toprule\n";
      for (size_t c = 0; c < table.header.size(); ++c) {
        out += (c ? " & " : "") + latex_escape(table.header[c]);
      }
      out += " \\\\\n\\midrule\n";
      for (const auto& line : cells) {
        for (size_t c = 0; c < line.size(); ++c) out += (c ? " & " : "") + line[c];
        out += " \\\\\n";
      }
      out += "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n";
    } else {
      out += "### " + table.title + "\n\n|";
      for (const std::string& name : table.header) out += " " + name + " |";
      out += "\n|";
      const size_t text_columns = table.kind == ReportTable::Kind::kComparison ? 4
                                  : table.kind == ReportTable::Kind::kOverlap  ? 2
                                                                               : 1;
      for (size_t c = 0; c < table.header.size(); ++c) out += c < text_columns ? "---|" : "---:|";
      out += "\n";
      for (const auto& line : cells) {
        out += "|";
        for (const std::string& cell : line) out += " " + cell + " |";
        out += "\n";
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace ptqat::results
