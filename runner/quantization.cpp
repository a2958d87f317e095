#include "runner/quantization.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/collective.h"
#include "core/error.h"
#include "core/resources.h"
#include "quant/calibration.h"
#include "quant/discrepancy.h"
#include "quant/layer_policy.h"
#include "quant/selection.h"
#include "runner/checkpoint.h"
#include "runner/progress.h"
#include "runner/stage_keys.h"
#include "runner/stage_record.h"
#include "runner/stage_run.h"
#include "runner/training_loop.h"
#include "tasks/metrics_text.h"

namespace ptqat::runner {

namespace {

/// The outcome of the calibration stage: the layers calibrated, in quantize mode.
struct Calibration {
  quant::DiscrepancyTable table;
  tasks::TaskMetrics ptq_metrics;
  std::string content;  ///< content identity of its checkpoint: what a fine-tune continues
};

Calibration run_calibration_stage(const StageContext& context, torch::nn::Module& model,
                                  const std::vector<quant::NamedLayer>& layers,
                                  const std::vector<datasets::Batch>& batches,
                                  const StageKeys& keys, const std::string& float_content,
                                  std::ostream& out) {
  const RunConfig& config = context.config();
  const StagePaths paths = stage_paths(config, keys.calibrate);
  const results::ResultsStore store(config.output.dir);
  if (reuse_recorded(config, keys.calibrate) && std::filesystem::exists(paths.checkpoint)) {
    const std::string content =
        recorded_checkpoint_content(config, keys.calibrate, paths.checkpoint);
    load_model_weights(paths.checkpoint, model);
    quant::set_mode(layers, quant::LayerMode::kQuantize);
    const results::RunRecord record = store.read(keys.calibrate);
    out << fmt::format("calibration {}: recorded, reusing {}\n", keys.calibrate, paths.checkpoint);
    return {discrepancy_table(record.layers), recorded_metrics(record), content};
  }
  say_why_it_runs_again(config, keys.calibrate, "calibration", out);

  const StageRun run;
  const auto forward = [&](int64_t batch) { context.task().forward(model, batches.at(batch)); };
  const auto count = static_cast<int64_t>(batches.size());
  core::SingleProcessCollective group;
  const int rank = context.group().rank();
  quant::calibrate(model, layers, count, with_pass_progress("calibration", count, rank, forward),
                   group);
  Calibration calibration;
  calibration.table = quant::measure_discrepancy(
      model, layers, count, with_pass_progress("discrepancy", count, rank, forward), config.quant,
      group);
  calibration.ptq_metrics = context.evaluate(model, {});

  TrainingState state;
  state.metadata = stage_metadata(config, keys.calibrate, core::Stage::kCalibrate);
  if (context.writes()) save_model_checkpoint(paths.checkpoint, model, state);
  results::RunRecord record =
      run.record(config, keys.calibrate, keys.float_train, core::Stage::kCalibrate, "ptq", model,
                 calibration.ptq_metrics);
  record.trainable_parameters = 0;
  record.layers = layer_rows(calibration.table);
  record.parent_content_hash = float_content;
  publish(context, record, paths.checkpoint);
  calibration.content = recorded_checkpoint_content(config, keys.calibrate, paths.checkpoint);
  out << fmt::format("calibration {} ({} batches): PTQ {}\n", keys.calibrate, count,
                     tasks::summary_line(calibration.ptq_metrics));
  return calibration;
}

tasks::TaskMetrics run_fine_tune_stage(const StageContext& context, torch::nn::Module& model,
                                       const std::vector<quant::NamedLayer>& layers,
                                       quant::DiscrepancyTable table, const StageKeys& keys,
                                       const std::string& calibration_content, std::ostream& out) {
  const RunConfig& config = context.config();
  const quant::QuantConfig& quant = config.quant;
  const results::ResultsStore store(config.output.dir);
  if (reuse_recorded(config, keys.fine_tune)) {
    const results::RunRecord record = store.read(keys.fine_tune);
    out << fmt::format("fine-tune {}: recorded, {} trainable parameters: {}\n", keys.fine_tune,
                       record.trainable_parameters, tasks::summary_line(recorded_metrics(record)));
    return recorded_metrics(record);
  }
  say_why_it_runs_again(config, keys.fine_tune, "fine-tune", out);

  const StageRun run;
  // The fine-tune seed, not the float model's: fine-tunes that differ only in it share the
  // float model and calibration above.
  torch::manual_seed(static_cast<uint64_t>(quant.seed));
  const quant::SelectionOptions options = quant::selection_options(quant);
  const quant::LayerSelection selection = quant::select_layers(table, options);
  const int64_t trainable =
      quant::apply_selection(model, layers, selection, quant.method, quant.bn_statistics, table);
  std::string frozen_layers;
  for (const auto& row : table) {
    if (row.frozen) frozen_layers += row.name + "\n";
  }

  TrainingStage stage;
  stage.name = "finetune";
  stage.optimizer = &config.finetune;
  stage.seed = quant.seed;
  stage.paths = stage_paths(config, keys.fine_tune);
  stage.metadata = stage_metadata(config, keys.fine_tune, core::Stage::kFineTune);
  stage.metadata[metadata::kFrozenLayers] = frozen_layers;
  // A forced rerun of a recorded stage starts afresh: its last checkpoint is the finished run's.
  stage.resume = !store.contains(keys.fine_tune);
  std::map<std::string, results::MetricHistory> history;
  const TrainingOutcome outcome = train_stage(context, model, stage, history, out);
  const tasks::TaskMetrics& kept = outcome.kept;

  results::RunRecord record =
      run.record(config, keys.fine_tune, keys.calibrate, core::Stage::kFineTune,
                 quant::method_name(quant.method), model, kept);
  record.trainable_parameters = trainable;
  record.layers = layer_rows(table);
  if (quant.method == quant::QuantMethod::kPtqat) {
    record.frozen_overlap = quant::frozen_set_overlaps(table, options, selection);
  }
  record.train_time_s = outcome.train_time_s;
  record.wall_time_s += outcome.earlier_wall_time_s;  // resumed: the attempts before it too
  record.attempts = outcome.attempts;
  record.history = std::move(history);
  record.parent_content_hash = calibration_content;
  publish(context, record, stage.paths.checkpoint);
  out << fmt::format("fine-tune {} ({}, {} of {} layers frozen, {} trainable parameters): {}\n",
                     keys.fine_tune, quant::method_name(quant.method), selection.frozen_layers,
                     layers.size(), trainable, tasks::summary_line(kept));
  return kept;
}

}  // namespace

std::vector<quant::NamedLayer> configure_quantization(const StageContext& context,
                                                      torch::nn::Module& model,
                                                      const datasets::Batch& batch) {
  std::vector<quant::NamedLayer> layers;
  {
    torch::NoGradGuard no_grad;
    const quant::EvalModeGuard eval_mode(model);
    layers = quant::in_forward_order(quant::find_quantizable_layers(model),
                                     [&] { context.task().forward(model, batch); });
  }
  quant::configure_layers(layers, context.config().quant);
  return layers;
}

tasks::TaskMetrics run_quantization(const RunConfig& launch_config, core::Collective& group,
                                    std::ostream& out) {
  const RunConfig config = with_ranks(launch_config, group.world_size());
  check_output(config);
  const StageContext context(config, /*with_train_split=*/true, group);
  const StageKeys keys = stage_keys(config);
  const StagePaths float_paths = stage_paths(config, keys.float_train);
  PTQAT_CHECK(std::filesystem::exists(float_paths.checkpoint), ConfigError,
              "quantize: no float checkpoint {} for this config under output.dir = '{}': run "
              "`ptqat train` with the same config first (trained on other than {} ranks? set "
              "train.ranks)",
              float_paths.checkpoint, config.output.dir, config.train.ranks);

  const std::string float_content =
      recorded_checkpoint_content(config, keys.float_train, float_paths.checkpoint);
  const std::shared_ptr<torch::nn::Module> model = context.build_model();
  load_model_weights(float_paths.checkpoint, *model);
  const std::vector<datasets::Batch> batches =
      context.calibration_batches(config.quant.calibration_batches);
  PTQAT_CHECK(!batches.empty(), DataError,
              "quantize: split '{}' of {} has no samples to calibrate on", config.data.train_split,
              config.data.dataroot);
  const std::vector<quant::NamedLayer> layers =
      configure_quantization(context, *model, batches.front());

  Calibration calibration =
      run_calibration_stage(context, *model, layers, batches, keys, float_content, out);
  if (config.quant.method == quant::QuantMethod::kPtq) return calibration.ptq_metrics;
  return run_fine_tune_stage(context, *model, layers, std::move(calibration.table), keys,
                             calibration.content, out);
}

}  // namespace ptqat::runner
