#include "results/results_listing.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace ptqat::results {

std::string results_table(const std::vector<RunRecord>& runs) {
  // The headline metrics of the three tasks; a stage shows those it recorded.
  const std::vector<std::string> metrics = {"NDS", "mAP", "mIoU"};
  // Names first (what people read), keys after (what files are named by).
  size_t width = 4;
  for (const RunRecord& run : runs) width = std::max(width, run.labels.name.size());
  std::string table =
      fmt::format("{:<{}}  {:<32}  {:<11}  {:<32}", "name", width, "key", "stage", "parent");
  for (const auto& name : metrics) table += fmt::format("  {:>7}", name);
  table += fmt::format("  {:>10}  {:>8}  {}\n", "trainable", "wall s", "finished");
  for (const RunRecord& run : runs) {
    table += fmt::format("{:<{}}  {:<32}  {:<11}  {:<32}",
                         run.labels.name.empty() ? "-" : run.labels.name, width, run.key, run.stage,
                         run.parent_key.empty() ? "-" : run.parent_key);
    for (const auto& name : metrics) {
      const auto found = run.metrics.find(name);
      table += found == run.metrics.end() ? fmt::format("  {:>7}", "-")
                                          : fmt::format("  {:>7.4f}", found->second);
    }
    table += fmt::format("  {:>10}  {:>8.1f}  {}\n", run.trainable_parameters, run.wall_time_s,
                         run.finished_at);
  }
  return table;
}

std::string results_json_lines(const std::vector<RunRecord>& runs) {
  std::string lines;
  for (const RunRecord& run : runs) {
    const auto loss = run.history.find("loss");
    const nlohmann::json line = {
        {"key", run.key},
        {"name", run.labels.name},
        {"parent_key", run.parent_key},
        {"stage", run.stage},
        {"task", run.task},
        {"method", run.method},
        {"metrics", run.metrics},
        {"trainable_parameters", run.trainable_parameters},
        {"wall_time_s", run.wall_time_s},
        {"peak_host_memory_bytes", run.peak_host_memory_bytes},
        {"peak_device_memory_bytes", run.peak_device_memory_bytes},
        {"train_steps", loss == run.history.end() ? 0 : loss->second.steps.size()}};
    lines += line.dump() + "\n";
  }
  return lines;
}

std::string csv_field(const std::string& text) {
  // Four lines rather than a CSV library: this is all RFC 4180 asks of a writer.
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string results_csv(const std::vector<RunRecord>& runs) {
  std::set<std::string> metric_names;
  for (const RunRecord& run : runs) {
    for (const auto& [name, value] : run.metrics) metric_names.insert(name);
  }
  std::vector<std::string> header = {"key",
                                     "parent_key",
                                     "stage",
                                     "task",
                                     "model",
                                     "method",
                                     "weight_bits",
                                     "activation_bits",
                                     "freeze_ratio",
                                     "rule",
                                     "discrepancy_metric",
                                     "discrepancy_mode",
                                     "quant_seed",
                                     "float_seed",
                                     "label",
                                     "name"};
  header.insert(header.end(), metric_names.begin(), metric_names.end());
  for (const char* cost : {"wall_s", "train_s", "attempts", "peak_bytes", "peak_device_bytes",
                           "trainable_params", "finished_at"}) {
    header.emplace_back(cost);
  }
  const auto row = [](const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_field(fields[i]);
    return line + "\n";
  };
  // Shortest round-trip form: pandas reads back the very doubles that were recorded.
  const auto number = [](double value) { return fmt::format("{}", value); };
  std::string csv = row(header);
  for (const RunRecord& run : runs) {
    const RunLabels& l = run.labels;
    std::vector<std::string> fields = {run.key,
                                       run.parent_key,
                                       run.stage,
                                       run.task,
                                       l.model,
                                       run.method,
                                       std::to_string(l.weight_bits),
                                       std::to_string(l.activation_bits),
                                       number(l.freeze_ratio),
                                       l.rule,
                                       l.discrepancy_metric,
                                       l.discrepancy_mode,
                                       std::to_string(l.quant_seed),
                                       std::to_string(l.float_seed),
                                       l.label,
                                       l.name};
    for (const std::string& name : metric_names) {
      const auto found = run.metrics.find(name);
      fields.push_back(found == run.metrics.end() ? "" : number(found->second));
    }
    for (const std::string& cost :
         {number(run.wall_time_s), number(run.train_time_s), std::to_string(run.attempts),
          std::to_string(run.peak_host_memory_bytes), std::to_string(run.peak_device_memory_bytes),
          std::to_string(run.trainable_parameters), run.finished_at}) {
      fields.push_back(cost);
    }
    csv += row(fields);
  }
  return csv;
}

}  // namespace ptqat::results
