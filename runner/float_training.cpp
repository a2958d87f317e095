#include "runner/float_training.h"

#include <filesystem>

#include "core/resources.h"
#include "runner/stage_context.h"
#include "runner/stage_keys.h"
#include "runner/stage_record.h"
#include "runner/stage_run.h"
#include "runner/training_loop.h"
#include "tasks/metrics_text.h"

namespace ptqat::runner {

tasks::TaskMetrics run_float_training(const RunConfig& launch_config, core::Collective& group,
                                      std::ostream& out) {
  const RunConfig config = with_ranks(launch_config, group.world_size());
  const StageRun run;
  const std::string key = stage_keys(config).float_train;
  const StagePaths paths = stage_paths(config, key);
  check_output(config);
  const results::ResultsStore store(config.output.dir);
  const bool recorded = store.contains(key);
  if (recorded && !config.runtime.force && std::filesystem::exists(paths.checkpoint)) {
    const tasks::TaskMetrics metrics = recorded_metrics(store.read(key));
    out << fmt::format(
        "float model {}: recorded, reusing {} ({}); --force trains it again and keeps this "
        "record as a superseded version\n",
        key, paths.checkpoint, tasks::summary_line(metrics));
    return metrics;
  }
  say_why_it_runs_again(config, key, "float model", out);
  const StageContext context(config, /*with_train_split=*/true, group);
  const std::shared_ptr<torch::nn::Module> model = context.build_model();

  TrainingStage stage;
  stage.name = "train";
  stage.optimizer = &config.train;
  stage.seed = config.seed;
  stage.paths = paths;
  stage.metadata = stage_metadata(config, key, core::Stage::kFloatTrain);
  // A forced rerun of a recorded model starts afresh: its last checkpoint is the finished run's.
  stage.resume = !recorded;
  std::map<std::string, results::MetricHistory> history;
  const TrainingOutcome outcome = train_stage(context, *model, stage, history, out);
  const tasks::TaskMetrics& kept = outcome.kept;

  results::RunRecord record =
      run.record(config, key, "", core::Stage::kFloatTrain, "float", *model, kept);
  record.train_time_s = outcome.train_time_s;
  record.wall_time_s += outcome.earlier_wall_time_s;  // resumed: the attempts before it too
  record.attempts = outcome.attempts;
  record.history = std::move(history);
  publish(context, record, paths.checkpoint);
  out << fmt::format("float model {} (kept checkpoint): {}\ncheckpoint: {}\n", key,
                     tasks::summary_line(kept), stage.paths.checkpoint);
  return kept;
}

}  // namespace ptqat::runner
