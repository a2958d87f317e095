#include "results/results_listing.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace ptqat::results {

std::string results_table(const std::vector<RunRecord>& runs) {
  // The headline metrics of the three tasks; a stage shows those it recorded.
  const std::vector<std::string> metrics = {"NDS", "mAP", "mIoU"};
  std::string table = fmt::format("{:<32}  {:<11}  {:<6}  {:<32}", "key", "stage", "method",
                                  "parent");
  for (const auto& name : metrics) table += fmt::format("  {:>7}", name);
  table += fmt::format("  {:>10}  {:>8}  {}\n", "trainable", "wall s", "finished");
  for (const RunRecord& run : runs) {
    table += fmt::format("{:<32}  {:<11}  {:<6}  {:<32}", run.key, run.stage, run.method,
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

}  // namespace ptqat::results
