#include "tasks/metrics_text.h"

#include <fmt/format.h>

#include <algorithm>

namespace ptqat::tasks {

std::string summary_line(const TaskMetrics& metrics) {
  if (!metrics.has_ground_truth) return "no ground truth on this split: predictions only";
  std::string line;
  for (const auto& [name, value] : metrics.scalars) {
    line += fmt::format("{}{} {:.4f}", line.empty() ? "" : "  ", name, value);
  }
  return line;
}

std::string metrics_table(const TaskMetrics& metrics) {
  if (!metrics.has_ground_truth) return summary_line(metrics) + "\n";
  size_t width = 6;
  for (const auto& [name, value] : metrics.scalars) width = std::max(width, name.size());
  std::string table;
  for (const auto& [name, value] : metrics.scalars) {
    table += fmt::format("{:<{}}  {:>8.4f}\n", name, width, value);
  }
  if (metrics.class_names.empty()) return table;
  size_t class_width = 5;
  for (const auto& name : metrics.class_names) class_width = std::max(class_width, name.size());
  table += fmt::format("\n{:<{}}", "class", class_width);
  for (const auto& [column, values] : metrics.per_class) table += fmt::format("  {:>8}", column);
  table += "\n";
  for (size_t i = 0; i < metrics.class_names.size(); ++i) {
    table += fmt::format("{:<{}}", metrics.class_names[i], class_width);
    for (const auto& [column, values] : metrics.per_class) {
      table += fmt::format("  {:>8.4f}", values.at(i));
    }
    table += "\n";
  }
  return table;
}

}  // namespace ptqat::tasks
