#include "results/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "core/error.h"
#include "results/results_listing.h"

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

ReportCell text(std::string value) {
  ReportCell cell;
  cell.text = std::move(value);
  return cell;
}
ReportCell stat(SeedStats value, int decimals = 4) {
  ReportCell cell;
  cell.kind = ReportCell::Kind::kStat;
  cell.stat = value;
  cell.decimals = decimals;
  return cell;
}
ReportCell paired(PairedStats value, int decimals = 4) {
  ReportCell cell;
  cell.kind = ReportCell::Kind::kPaired;
  cell.paired = value;
  cell.decimals = decimals;
  return cell;
}

using RunValue = std::function<std::optional<double>(const RunRecord&)>;

RunValue metric_value(const std::string& metric) {
  return [metric](const RunRecord& run) -> std::optional<double> {
    const auto found = run.metrics.find(metric);
    if (found == run.metrics.end()) return std::nullopt;
    return found->second;
  };
}

/// Paired differences value(a) - value(b) between the runs of two variants of one float model
/// family. Fine-tunes pair by calibration (so by float model) and fine-tune seed. A calibration
/// (PTQ) pairs with the fine-tunes of it, averaged over their fine-tune seeds; a float model with
/// the calibrations of it. Runs without a partner are left out: n counts pairs.
std::vector<double> paired_differences(const Variant& a, const Variant& b, const RunValue& value) {
  std::vector<double> differences;
  for (const RunRecord* run : a.runs) {
    const std::optional<double> own = value(*run);
    if (!own) continue;
    std::vector<double> partners;
    for (const RunRecord* other : b.runs) {
      const bool partner = a.stage == b.stage
                               ? other->parent_key == run->parent_key &&
                                     other->labels.quant_seed == run->labels.quant_seed
                               : other->parent_key == run->key;
      const std::optional<double> theirs = partner ? value(*other) : std::nullopt;
      if (theirs) partners.push_back(*theirs);
    }
    if (!partners.empty()) differences.push_back(*own - seed_stats(partners).mean);
  }
  return differences;
}

/// Splits `runs` into those whose lineage is current (each parent the version the run was made
/// from, up to the float model) and the others, which go to `left_out` as rows.
std::vector<RunRecord> current_lineages(const std::vector<RunRecord>& runs, ReportTable& left_out) {
  std::map<std::string, const RunRecord*> by_key;
  for (const RunRecord& run : runs) by_key[run.key] = &run;
  std::map<std::string, bool> current;
  std::function<bool(const RunRecord&)> is_current = [&](const RunRecord& run) {
    const auto known = current.find(run.key);
    if (known != current.end()) return known->second;
    bool result = true;
    if (!run.parent_key.empty()) {
      const auto parent = by_key.find(run.parent_key);
      // A parent outside this file (merged partially) cannot be checked: kept.
      result =
          parent == by_key.end() || ((run.parent_content_hash.empty() ||
                                      run.parent_content_hash == parent->second->content_hash) &&
                                     is_current(*parent->second));
    }
    current[run.key] = result;
    return result;
  };
  std::vector<RunRecord> kept;
  for (const RunRecord& run : runs) {
    if (is_current(run)) {
      kept.push_back(run);
    } else {
      left_out.rows.push_back({text(run.labels.name.empty() ? run.labels.label : run.labels.name),
                               text(run.key), text(run.stage)});
    }
  }
  return kept;
}

/// A run's labels as its row shows them: a random rule seeded by the fine-tune seed (the runner
/// writes "random(<quant.seed>)" when quant.select_seed is unset) is one rule over those seeds,
/// "random"; a fixed selection seed stays in the name.
RunLabels row_labels(RunLabels labels) {
  if (labels.rule == fmt::format("random({})", labels.quant_seed)) {
    labels.rule = "random";
    labels.label = fmt::format("PTQAT {:g} random", labels.freeze_ratio);
  }
  return labels;
}

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
      variant.labels = row_labels(labels);
    }
    variant.runs.push_back(&run);
  }
  return variants;
}

/// The model as its stage names begin ("detection-cnn"; records before names: "detection").
std::string model_name_of(const Variant& model) {
  const std::string& name = model.labels.name;
  return name.empty() ? model.labels.model : name.substr(0, name.find('/'));
}

using VariantEntry = std::map<std::string, Variant>::value_type;  ///< (seedless key, variant)

/// The float models with their names, in name order (then key order): the report reads the
/// same whichever hashes the stage keys have.
std::vector<std::pair<std::string, const VariantEntry*>> float_models_by_name(
    const std::map<std::string, Variant>& variants) {
  std::vector<std::pair<std::string, const VariantEntry*>> models;
  for (const VariantEntry& entry : variants) {
    if (entry.second.stage == "float_train")
      models.emplace_back(model_name_of(entry.second), &entry);
  }
  std::stable_sort(models.begin(), models.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return models;
}

/// A float model's calibrations from the widest bits to the narrowest (W8A8, then W4A8), the
/// order in which quantization gets harder; equal bits in key order.
std::vector<const VariantEntry*> calibrations_widest_first(
    const std::map<std::string, Variant>& variants, const std::string& float_key) {
  std::vector<const VariantEntry*> calibrations;
  for (const VariantEntry& entry : variants) {
    if (entry.second.stage == "calibrate" && entry.second.labels.float_group == float_key) {
      calibrations.push_back(&entry);
    }
  }
  std::stable_sort(calibrations.begin(), calibrations.end(), [](const auto* a, const auto* b) {
    const RunLabels& x = a->second.labels;
    const RunLabels& y = b->second.labels;
    return std::tie(x.weight_bits, x.activation_bits) > std::tie(y.weight_bits, y.activation_bits);
  });
  return calibrations;
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

}  // namespace

ReportFormat parse_report_format(const std::string& name) {
  if (name == "md") return ReportFormat::kMarkdown;
  if (name == "latex") return ReportFormat::kLatex;
  if (name == "csv") return ReportFormat::kCsv;
  PTQAT_FAIL(ConfigError, "--format '{}': expected md, latex or csv", name);
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

  /// `qat`: the full-QAT variant `variant` is compared with, paired (none for float and QAT).
  std::vector<ReportCell> row(const Variant& variant, const std::string& method,
                              const std::string& bits, const std::string& freeze,
                              const std::string& rule, const Variant* qat) const {
    std::vector<ReportCell> row = {text(method), text(bits), text(freeze), text(rule)};
    for (const std::string& metric : metrics) row.push_back(stat(variant.stat(metric)));
    row.push_back(
        paired(qat ? paired_stats(paired_differences(variant, *qat, metric_value(metrics.front())))
                   : PairedStats{}));
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
/// the one each measure (columns) selects; empty when no fine-tune recorded overlaps. A random
/// rule has no row: it ignores the discrepancy, so every measure selects its frozen set (1.00).
ReportTable overlap_table(const CalibrationFamily& family, const std::string& title) {
  ReportTable overlaps;
  overlaps.kind = ReportTable::Kind::kOverlap;
  overlaps.title = title;
  std::vector<const Variant*> ranked;
  for (const Variant* variant : family.ptqat) {
    if (variant->labels.rule.rfind("random", 0) != 0) ranked.push_back(variant);
  }
  std::set<std::string> measures;
  for (const Variant* variant : ranked) {
    for (const RunRecord* run : variant->runs) {
      for (const auto& [measure, value] : run->frozen_overlap) measures.insert(measure);
    }
  }
  if (measures.empty()) return overlaps;
  overlaps.header = {"freeze ratio", "rule"};
  overlaps.header.insert(overlaps.header.end(), measures.begin(), measures.end());
  for (const Variant* variant : ranked) {
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

/// What the paired effect `effect` (with its interval) says of a claim that it is positive
/// (`higher_is_claimed`) or negative: supported when the interval excludes zero on the claimed
/// side, contradicted when it excludes it on the other, inconclusive otherwise.
std::string verdict(const PairedStats& effect, bool higher_is_claimed) {
  if (effect.differences.count == 0) return "no pairs";
  if (!effect.has_interval) return "inconclusive (one pair, no interval)";
  const double low = higher_is_claimed ? effect.low : -effect.high;
  const double high = higher_is_claimed ? effect.high : -effect.low;
  if (low > 0) return "supported";
  if (high < 0) return "contradicted";
  return "inconclusive (the interval spans 0)";
}

ReportTable claims_table() {
  ReportTable claims;
  claims.kind = ReportTable::Kind::kClaims;
  claims.title =
      "Claims: paired differences (same float model, same fine-tune seed), 95% t-interval";
  claims.header = {"claim", "model", "bits", "effect", "n", "verdict", "quantization gap"};
  return claims;
}

/// Whether PTQ's loss against float is larger than the float model's spread over its seeds; a
/// claim about fine-tuning says little when quantizing costs nothing measurable.
std::string quantization_gap(const Variant& model, const CalibrationFamily& family,
                             const std::string& primary) {
  const PairedStats gap =
      paired_stats(paired_differences(model, *family.calibration, metric_value(primary)));
  const SeedStats spread = model.stat(primary);
  if (gap.differences.count == 0) return "unknown (no PTQ of this model)";
  const std::string text = fmt::format("float - PTQ {:+.4f}", gap.differences.mean);
  if (spread.count < 2) return text + "; flagged: one float seed, its spread is unknown";
  if (gap.low > spread.stddev) {
    return fmt::format("{} > float seed spread {:.4f}: meaningful", text, spread.stddev);
  }
  return fmt::format("{}, not above the float seed spread {:.4f}: flagged", text, spread.stddev);
}

/// The paper's claims for one calibration family, a row each (docs/sweeps.md "Claims").
void claims_of(const Variant& model, const std::string& model_name, const CalibrationFamily& family,
               const std::string& primary, ReportTable& claims) {
  if (family.qat == nullptr || family.ptqat.empty()) return;
  // The paper's rule at the freeze ratio nearest 0.5.
  const Variant* rule = nullptr;
  for (const Variant* variant : family.ptqat) {
    if (variant->labels.rule != "smallest") continue;
    if (rule == nullptr ||
        std::abs(variant->labels.freeze_ratio - 0.5) < std::abs(rule->labels.freeze_ratio - 0.5)) {
      rule = variant;
    }
  }
  if (rule == nullptr) return;
  const std::string& bits = family.calibration->labels.bits;
  const std::string gap = quantization_gap(model, family, primary);
  const std::string setting = fmt::format("PTQAT({:g}, smallest)", rule->labels.freeze_ratio);
  const auto add = [&](const std::string& claim, const PairedStats& effect, int decimals,
                       bool higher_is_claimed) {
    ReportCell cell = paired(effect, decimals);
    claims.rows.push_back({text(claim), text(model_name), text(bits), cell,
                           text(std::to_string(effect.differences.count)),
                           text(verdict(effect, higher_is_claimed)), text(gap)});
  };
  const auto versus = [&](const Variant& other, const RunValue& value) {
    return paired_stats(paired_differences(*rule, other, value));
  };
  add(fmt::format("{} >= full QAT on {}", setting, primary),
      versus(*family.qat, metric_value(primary)), 4, true);
  for (const Variant* variant : family.ptqat) {
    if (variant->labels.rule == "largest" &&
        variant->labels.freeze_ratio == rule->labels.freeze_ratio) {
      add(fmt::format("{} > PTQAT({:g}, largest) on {}", setting, rule->labels.freeze_ratio,
                      primary),
          versus(*variant, metric_value(primary)), 4, true);
    }
  }
  add(setting + " trains fewer weights than full QAT",
      versus(*family.qat,
             [](const RunRecord& run) { return static_cast<double>(run.trainable_parameters); }),
      0, false);
  add(setting + " fine-tunes faster than full QAT (train s)",
      versus(*family.qat, [](const RunRecord& run) { return run.train_time_s; }), 2, false);
  add(setting + " fine-tunes in less memory than full QAT (peak MiB)",
      versus(*family.qat,
             [](const RunRecord& run) {
               return static_cast<double>(run.peak_host_memory_bytes) / (1024.0 * 1024.0);
             }),
      0, false);
}

}  // namespace

std::vector<ReportTable> report_tables(const std::vector<RunRecord>& all_runs) {
  ReportTable left_out;
  left_out.kind = ReportTable::Kind::kLeftOut;
  left_out.header = {"stage name", "key", "stage"};
  const std::vector<RunRecord> runs = current_lineages(all_runs, left_out);
  left_out.title = fmt::format(
      "Left out: {} record(s) made from an earlier version of a stage they continue (rerun "
      "the sweep to remake them)",
      left_out.rows.size());
  const std::map<std::string, Variant> variants = variants_of(runs);
  std::vector<ReportTable> tables;
  std::vector<ReportTable> ablations;
  std::vector<ReportTable> overlaps;
  ReportTable claims = claims_table();
  std::set<std::string> model_names;
  for (const auto& [name, entry] : float_models_by_name(variants)) {
    const auto& [float_key, model] = *entry;
    // Two float models of one name (they differ in a field names leave out) get their key too.
    std::string model_name = name;
    if (!model_names.insert(model_name).second) {
      model_name += " " + float_key.substr(0, 8);
    }
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
    std::vector<int64_t> float_seeds;
    for (const RunRecord* run : model.runs) float_seeds.push_back(run->labels.float_seed);
    std::sort(float_seeds.begin(), float_seeds.end());
    table.title =
        float_seeds.size() == 1
            ? fmt::format("{}: float model ({} epochs) and its quantizations", model_name,
                          model.labels.epochs)
            : fmt::format("{}: {} float models (seeds {}; {} epochs) and their quantizations",
                          model_name, float_seeds.size(), fmt::join(float_seeds, ", "),
                          model.labels.epochs);
    table.header = columns.header();
    table.rows.push_back(columns.row(model, "float", "-", "-", "-", nullptr));
    for (const VariantEntry* calibration_entry : calibrations_widest_first(variants, float_key)) {
      const auto& [calibrate_key, calibration] = *calibration_entry;
      const CalibrationFamily family = family_of(variants, calibrate_key, calibration);
      const std::string& bits = calibration.labels.bits;
      table.rows.push_back(columns.row(calibration, "PTQ", bits, "1", "-", family.qat));
      if (family.qat)
        table.rows.push_back(columns.row(*family.qat, "full QAT", bits, "0", "-", nullptr));
      for (const Variant* variant : family.ptqat) {
        table.rows.push_back(columns.row(*variant, "PTQAT", bits,
                                         fmt::format("{:g}", variant->labels.freeze_ratio),
                                         variant->labels.rule, family.qat));
      }
      claims_of(model, model_name, family, primary, claims);
      if (family.ptqat.empty()) continue;
      ablations.push_back(ablation_table(
          family,
          fmt::format("{} {}: {} vs freeze ratio and selection rule", model_name, bits, primary),
          primary));
      ablations.back().slug = fmt::format("{}_{}", model_name, bits);
      for (char& c : ablations.back().slug) {
        c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      ReportTable overlap = overlap_table(
          family, fmt::format("{} {}: overlap (Jaccard) of the frozen set with the one each "
                              "discrepancy measure selects",
                              model_name, bits));
      if (!overlap.rows.empty()) overlaps.push_back(std::move(overlap));
    }
    tables.push_back(std::move(table));
  }
  if (!claims.rows.empty()) tables.push_back(std::move(claims));
  tables.insert(tables.end(), ablations.begin(), ablations.end());
  tables.insert(tables.end(), overlaps.begin(), overlaps.end());
  if (!left_out.rows.empty()) tables.push_back(std::move(left_out));
  return tables;
}

namespace {

std::string stat_text(const ReportCell& cell, bool latex) {
  const SeedStats& stat = cell.stat;
  if (stat.count == 0) return "";
  const std::string mean = fmt::format("{:.{}f}", stat.mean, cell.decimals);
  if (stat.count == 1) return mean + " (1)";
  return fmt::format("{}{}{:.{}f} ({})", mean, latex ? " $\\pm$ " : " ± ", stat.stddev,
                     cell.decimals, stat.count);
}

std::string paired_text(const ReportCell& cell) {
  const PairedStats& paired = cell.paired;
  if (paired.differences.count == 0) return "";
  const std::string mean = fmt::format("{:+.{}f}", paired.differences.mean, cell.decimals);
  if (!paired.has_interval) return mean + " (1)";
  return fmt::format("{} [{:+.{}f}, {:+.{}f}] ({})", mean, paired.low, cell.decimals, paired.high,
                     cell.decimals, paired.differences.count);
}

std::string cell_text(const ReportCell& cell, bool latex) {
  switch (cell.kind) {
    case ReportCell::Kind::kStat:
      return stat_text(cell, latex);
    case ReportCell::Kind::kPaired:
      return paired_text(cell);
    case ReportCell::Kind::kText:
      break;
  }
  return cell.text;
}

/// The CSV columns of a column named `name` holding cells like `cell`.
std::vector<std::string> csv_columns(const std::string& name, const ReportCell& cell) {
  switch (cell.kind) {
    case ReportCell::Kind::kStat:
      return {name, name + " std", name + " n"};
    case ReportCell::Kind::kPaired:
      return {name, name + " low", name + " high", name + " n"};
    case ReportCell::Kind::kText:
      break;
  }
  return {name};
}

/// The CSV fields of `cell`, as many as csv_columns() names; empty where there is no value.
std::vector<std::string> csv_values(const ReportCell& cell) {
  const auto number = [](double value) { return fmt::format("{:.6g}", value); };
  switch (cell.kind) {
    case ReportCell::Kind::kStat:
      if (cell.stat.count == 0) return {"", "", ""};
      return {number(cell.stat.mean), number(cell.stat.stddev), std::to_string(cell.stat.count)};
    case ReportCell::Kind::kPaired: {
      const PairedStats& paired = cell.paired;
      if (paired.differences.count == 0) return {"", "", "", ""};
      return {number(paired.differences.mean), paired.has_interval ? number(paired.low) : "",
              paired.has_interval ? number(paired.high) : "",
              std::to_string(paired.differences.count)};
    }
    case ReportCell::Kind::kText:
      break;
  }
  return {csv_field(cell.text)};
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

}  // namespace

std::string render_report(const std::vector<ReportTable>& tables, ReportFormat format) {
  std::string out;
  if (format == ReportFormat::kCsv) {
    bool header_written = false;
    for (const ReportTable& table : tables) {
      if (table.kind != ReportTable::Kind::kComparison) continue;
      if (!header_written && !table.rows.empty()) {
        out += "table";
        for (size_t c = 0; c < table.header.size(); ++c) {
          for (const std::string& column : csv_columns(table.header[c], table.rows.front()[c])) {
            out += "," + csv_field(column);
          }
        }
        out += "\n";
        header_written = true;
      }
      for (const auto& row : table.rows) {
        out += csv_field(table.title);
        for (const ReportCell& cell : row) {
          for (const std::string& value : csv_values(cell)) out += "," + value;
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
        const std::string shown = cell_text(cell, latex);
        line.push_back(latex && cell.kind == ReportCell::Kind::kText ? latex_escape(shown) : shown);
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
      // Text columns left, numbers right.
      for (size_t c = 0; c < table.header.size(); ++c) {
        const bool number =
            !table.rows.empty() && table.rows.front()[c].kind != ReportCell::Kind::kText;
        out += number || (table.kind == ReportTable::Kind::kAblation && c > 0) ? "---:|" : "---|";
      }
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
