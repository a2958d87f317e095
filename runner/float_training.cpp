#include "runner/float_training.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>

#include "core/config_toml.h"
#include "core/resources.h"
#include "core/stage_key.h"
#include "datasets/loader.h"
#include "datasets/nuscenes_dataset.h"
#include "quant/selection.h"
#include "runner/checkpoint.h"
#include "runner/lr_schedule.h"
#include "runner/progress.h"
#include "runner/results_store.h"
#include "runner/task_factory.h"

namespace ptqat::runner {

namespace {

/// One evaluation pass over `dataset` (no augmentation, no shuffling), the model in eval mode.
tasks::TaskMetrics evaluate(const tasks::Task& task, torch::nn::Module& model,
                            const datasets::NuScenesDataset& dataset, const RunConfig& config,
                            const tasks::PredictionExport& output) {
  datasets::LoaderConfig loader_config = config.loader;
  loader_config.shuffle = false;
  datasets::AugmentConfig no_augment;
  no_augment.enabled = false;
  datasets::Loader loader(dataset, loader_config, config.pillars, no_augment, 0, 1,
                          static_cast<uint64_t>(config.seed));
  loader.start_epoch(0);
  const bool was_training = model.is_training();
  model.eval();
  auto evaluation = task.begin_evaluation();
  {
    torch::NoGradGuard no_grad;
    while (auto batch = loader.next()) evaluation->add(model, *batch);
  }
  model.train(was_training);
  return evaluation->finish(output);
}

std::string summary_line(const tasks::TaskMetrics& metrics) {
  if (!metrics.has_ground_truth) return "no ground truth on this split: predictions only";
  std::string line;
  for (const auto& [name, value] : metrics.scalars) {
    line += fmt::format("{}{} {:.4f}", line.empty() ? "" : "  ", name, value);
  }
  return line;
}

}  // namespace

StagePaths float_training_paths(RunConfig& config) {
  StagePaths paths;
  paths.key = core::stage_key(core::fields_of(config), core::Stage::kFloatTrain, "");
  const std::filesystem::path dir(config.output.dir);
  paths.checkpoint = (dir / "checkpoints" / (paths.key + ".pt")).string();
  paths.last_checkpoint = (dir / "checkpoints" / (paths.key + ".last.pt")).string();
  paths.records = dir.string();
  return paths;
}

tasks::TaskMetrics run_float_training(RunConfig config, std::ostream& out) {
  const core::Stopwatch stopwatch;
  const std::string started_at = utc_timestamp();
  const StagePaths paths = float_training_paths(config);
  core::apply_thread_setting(config.runtime.threads);
  if (config.train.deterministic) at::globalContext().setDeterministicAlgorithms(true, false);
  torch::manual_seed(static_cast<uint64_t>(config.seed));

  auto index =
      std::make_shared<const datasets::NuScenes>(config.data.dataroot, config.data.version);
  const datasets::NuScenesDataset train_set(index, config.data.train_split, config.data);
  const datasets::NuScenesDataset eval_set(index, config.data.eval_split, config.data);
  const std::unique_ptr<tasks::Task> task = make_task(config, index);
  const std::shared_ptr<torch::nn::Module> model = task->build_model();
  model->train();

  std::vector<torch::Tensor> parameters;
  for (const auto& parameter : model->parameters()) {
    if (parameter.requires_grad()) parameters.push_back(parameter);
  }
  torch::optim::AdamW optimizer(parameters, adamw_options(config.train));
  datasets::Loader loader(train_set, config.loader, config.pillars, config.augment, 0, 1,
                          static_cast<uint64_t>(config.seed));
  const int64_t steps_per_epoch = loader.steps_per_epoch();
  const std::unique_ptr<LrSchedule> schedule =
      make_schedule(config.train, config.train.epochs * steps_per_epoch);

  TrainingState state;
  state.metadata["stage_key"] = paths.key;
  if (std::filesystem::exists(paths.last_checkpoint)) {
    state = load_checkpoint(paths.last_checkpoint, *model, optimizer);
    spdlog::info("train: resuming {} after epoch {}", paths.last_checkpoint, state.epoch);
  }

  RunRecord record;
  tasks::TaskMetrics latest;        // of the latest evaluation
  tasks::TaskMetrics best_metrics;  // of the best checkpoint
  const auto evaluate_now = [&](int64_t epoch) {
    const int64_t every = config.train.eval_every_epochs;
    return epoch + 1 == config.train.epochs || (every > 0 && (epoch + 1) % every == 0);
  };
  for (int64_t epoch = state.epoch; epoch < config.train.epochs; ++epoch) {
    loader.start_epoch(epoch);
    ProgressReporter progress(fmt::format("train epoch {}/{}", epoch + 1, config.train.epochs),
                              steps_per_epoch, 0);
    int64_t step_in_epoch = 0;
    while (auto batch = loader.next()) {
      schedule->apply(optimizer, state.schedule_step);
      optimizer.zero_grad();
      const tasks::StepLoss loss = task->loss(*model, *batch);
      const double loss_value = loss.total.item<double>();
      PTQAT_CHECK(std::isfinite(loss_value), Error,
                  "train: the loss is {} at epoch {} step {} (lower train.lr?)", loss_value,
                  epoch + 1, step_in_epoch + 1);
      loss.total.backward();
      if (config.train.grad_clip_norm > 0) {
        torch::nn::utils::clip_grad_norm_(parameters, config.train.grad_clip_norm);
      }
      optimizer.step();
      ++state.schedule_step;
      ++state.global_step;
      record.history["loss"].steps.push_back(state.global_step);
      record.history["loss"].values.push_back(loss_value);
      progress.update(++step_in_epoch,
                      {{"loss", loss_value}, {"lr", schedule->lr(state.schedule_step - 1)}});
    }
    progress.finish();
    state.epoch = epoch + 1;
    if (evaluate_now(epoch)) {
      latest = evaluate(*task, *model, eval_set, config, {});
      out << fmt::format("epoch {}: {}\n", epoch + 1, summary_line(latest)) << std::flush;
      const bool scored = latest.has_ground_truth;
      const double value = scored ? latest.scalars.at(latest.primary) : 0.0;
      if (scored) {
        auto& history = record.history["val_" + latest.primary];
        history.steps.push_back(state.global_step);
        history.values.push_back(value);
      }
      // Best checkpoint by the primary metric; without ground truth the latest one.
      if (!scored || std::isnan(state.best_metric) || value > state.best_metric) {
        state.best_metric = scored ? value : state.best_metric;
        best_metrics = latest;
        save_checkpoint(paths.checkpoint, *model, optimizer, state);
      }
    }
    save_checkpoint(paths.last_checkpoint, *model, optimizer, state);
  }
  if (best_metrics.primary.empty() && std::filesystem::exists(paths.checkpoint)) {
    // Resumed after the last epoch: evaluate the best checkpoint for the record.
    load_model_weights(paths.checkpoint, *model);
    best_metrics = evaluate(*task, *model, eval_set, config, {});
  }

  record.key = paths.key;
  record.stage = core::stage_name(core::Stage::kFloatTrain);
  record.task = config.task;
  record.method = "float";
  record.config = core::to_toml(core::fields_of(config));
  record.started_at = started_at;
  record.finished_at = utc_timestamp();
  record.wall_time_s = stopwatch.seconds();
  record.peak_host_memory_bytes = core::peak_rss_bytes();
  record.trainable_parameters = quant::trainable_parameter_count(*model);
  record.metrics = best_metrics.scalars;
  record.class_names = best_metrics.class_names;
  record.per_class = best_metrics.per_class;
  ResultsStore store(paths.records);
  store.write(record);
  store.consolidate((std::filesystem::path(paths.records) / "results.h5").string());
  out << fmt::format("float model {} (best checkpoint): {}\ncheckpoint: {}\n", paths.key,
                     summary_line(best_metrics), paths.checkpoint);
  return best_metrics;
}

}  // namespace ptqat::runner
