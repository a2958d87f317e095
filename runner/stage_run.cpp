#include "runner/stage_run.h"

#include <vector>

#include "core/device_memory.h"
#include "quant/selection.h"
#include "runner/stage_record.h"

namespace ptqat::runner {

namespace {

/// Resets the peak-RSS mark and returns the start time (the first member StageRun initialises).
std::string start_stage() {
  core::reset_peak_rss();
  return results::utc_timestamp();
}

}  // namespace

StageRun::StageRun() : started_at_(start_stage()) {}

results::RunRecord StageRun::record(const RunConfig& config, const std::string& key,
                                    const std::string& parent_key, core::Stage stage,
                                    const std::string& method, torch::nn::Module& model,
                                    const tasks::TaskMetrics& metrics) const {
  results::RunRecord record;
  record.key = key;
  record.parent_key = parent_key;
  record.stage = core::stage_name(stage);
  record.task = config.task;
  record.method = method;
  record.config = resolved_toml(config);
  record.started_at = started_at_;
  record.finished_at = results::utc_timestamp();
  record.wall_time_s = stopwatch_.seconds();
  record.peak_host_memory_bytes = core::high_water_rss_bytes();
  const std::vector<torch::Tensor> parameters = model.parameters();
  if (!parameters.empty()) {
    record.peak_device_memory_bytes = core::peak_device_memory_bytes(parameters.front().device());
  }
  record.trainable_parameters = quant::trainable_parameter_count(model);
  record.metrics = metrics.scalars;
  record.class_names = metrics.class_names;
  record.per_class = metrics.per_class;
  record.labels = record_labels(config, metrics.primary);
  return record;
}

bool reuse_recorded(const RunConfig& config, const std::string& key) {
  return !config.runtime.force && results::ResultsStore(config.output.dir).contains(key);
}

void publish(const StageContext& context, const results::RunRecord& record) {
  if (context.writes()) {
    const results::ResultsStore store(context.config().output.dir);
    store.write(record, context.config().runtime.force ? results::Recording::kNewVersion
                                                       : results::Recording::kNew);
    store.consolidate(results_path(context.config().output));
  }
  context.group().barrier();
}

}  // namespace ptqat::runner
