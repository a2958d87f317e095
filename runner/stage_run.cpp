#include "runner/stage_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <ostream>
#include <vector>

#include "core/device_memory.h"
#include "core/error.h"
#include "core/stage_key.h"
#include "quant/selection.h"
#include "runner/stage_keys.h"
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
  record.labels = record_labels(config, method, metrics.primary);
  return record;
}

void check_output(const RunConfig& config) {
  results::ResultsStore(config.output.dir).check_view(results_path(config.output));
}

bool reuse_recorded(const RunConfig& config, const std::string& key) {
  return !config.runtime.force && results::ResultsStore(config.output.dir).is_current(key);
}

void say_why_it_runs_again(const RunConfig& config, const std::string& key,
                           const std::string& stage_label, std::ostream& out) {
  const results::ResultsStore store(config.output.dir);
  if (!store.contains(key)) return;
  const std::string checkpoint = stage_paths(config, key).checkpoint;
  const std::string why =
      config.runtime.force ? "--force runs it again"
      : !std::filesystem::exists(checkpoint)
          ? fmt::format("its checkpoint {} is gone; making it again", checkpoint)
          : "made from an earlier version of a stage it continues, which was recorded again "
            "since; running it again";
  out << fmt::format("{} {}: recorded; {} (the earlier record stays as a superseded version)\n",
                     stage_label, key, why);
}

std::string recorded_checkpoint_content(const RunConfig& config, const std::string& key,
                                        const std::string& checkpoint) {
  const std::string content = core::file_content_hash(checkpoint);
  const results::ResultsStore store(config.output.dir);
  if (!store.contains(key)) return content;
  const std::string recorded = store.read(key).content_hash;
  PTQAT_CHECK(recorded.empty() || recorded == content, DataError,
              "{}: not the checkpoint stage {} recorded (contents {}, the record says {}): it "
              "changed after it was recorded (an interrupted --force run?); run that stage again",
              checkpoint, key, content, recorded);
  return content;
}

namespace {

namespace fs = std::filesystem;

/// Links the stage's checkpoint as <output_dir>/by-name/<name>.pt.
void link_by_name(const std::string& output_dir, const std::string& name,
                  const std::string& checkpoint) {
  if (name.empty()) return;
  // <dir>/by-name/detection-cnn/w4a8/qat/seed0.pt -> ../../../../checkpoints/<key>.pt: files stay
  // keyed by hash (names can repeat across configs), and people browse them by name. A link is
  // replaced atomically (rename) by the latest stage of the name; a failure costs only the link.
  const fs::path link = fs::path(output_dir) / "by-name" / (name + ".pt");
  std::error_code error;
  fs::create_directories(link.parent_path(), error);
  const fs::path target =
      fs::relative(fs::absolute(checkpoint), fs::absolute(link.parent_path()), error);
  const fs::path temporary = link.string() + ".tmp";
  fs::remove(temporary, error);
  fs::create_symlink(target, temporary, error);
  if (!error) fs::rename(temporary, link, error);
  if (error)
    spdlog::warn("{}: cannot link the checkpoint by name: {}", link.string(), error.message());
}

}  // namespace

void publish(const StageContext& context, results::RunRecord record,
             const std::string& checkpoint) {
  if (context.writes()) {
    const RunConfig& config = context.config();
    const results::ResultsStore store(config.output.dir);
    if (!checkpoint.empty()) record.content_hash = core::file_content_hash(checkpoint);
    // Recorded already: kept as a superseded version. Of two writers that find the key
    // unrecorded, link(2) lets one win and refuses the other (results::RecordExists).
    const bool again = store.contains(record.key);
    store.write(record, again ? results::Recording::kNewVersion : results::Recording::kNew);
    store.consolidate(results_path(config.output));
    if (!checkpoint.empty()) link_by_name(config.output.dir, record.labels.name, checkpoint);
  }
  context.group().barrier();
}

}  // namespace ptqat::runner
