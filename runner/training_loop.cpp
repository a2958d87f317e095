#include "runner/training_loop.h"

#include <cmath>
#include <filesystem>
#include <optional>

#include "core/autocast.h"
#include "core/error.h"
#include "core/preemption.h"
#include "core/resources.h"
#include "datasets/loader.h"
#include "distributed/gradient_buckets.h"
#include "quant/sync_batch_norm.h"
#include "runner/checkpoint.h"
#include "runner/progress.h"
#include "runner/stage_keys.h"
#include "tasks/metrics_text.h"

namespace ptqat::runner {

TrainingOutcome train_stage(const StageContext& context, torch::nn::Module& model,
                            const TrainingStage& stage,
                            std::map<std::string, results::MetricHistory>& history,
                            std::ostream& out) {
  const RunConfig& config = context.config();
  const OptimizerConfig& settings = *stage.optimizer;
  const StagePaths& paths = stage.paths;
  model.train();
  std::vector<torch::Tensor> parameters;
  for (const auto& parameter : model.parameters()) {
    if (parameter.requires_grad()) parameters.push_back(parameter);
  }
  torch::optim::AdamW optimizer(adamw_param_groups(parameters, settings), adamw_options(settings));
  // Data parallel: each rank trains on its shard of every epoch (the loader seeds augmentation
  // per rank), gradients are averaged over the ranks before each step.
  core::Collective& group = context.group();
  // NCCL for CUDA tensors; MPI for the CPU's and for the loop's own agreements.
  core::Collective& tensors = context.tensor_group();
  // Buckets hold a copy of every trainable gradient: only worth their memory on several ranks.
  std::optional<distributed::GradientBuckets> gradients;
  if (group.world_size() > 1) gradients.emplace(parameters, tensors);
  std::optional<quant::SyncBatchNormScope> synchronized_statistics;
  if (settings.sync_batchnorm && group.world_size() > 1) synchronized_statistics.emplace(tensors);
  datasets::Loader loader(context.train_set(), config.loader, config.pillars, config.augment,
                          group.rank(), group.world_size(), static_cast<uint64_t>(stage.seed));
  loader.pin_memory(context.device().is_cuda());
  const int64_t steps_per_epoch = loader.steps_per_epoch();
  const bool mixed_precision = context.device().is_cuda() && settings.mixed_precision == "bf16";
  const std::unique_ptr<LrSchedule> schedule =
      make_schedule(settings, settings.epochs * steps_per_epoch);

  TrainingState state;
  state.metadata = stage.metadata;
  if (stage.resume && std::filesystem::exists(paths.last_checkpoint)) {
    state = load_checkpoint(paths.last_checkpoint, model, optimizer);
    out << fmt::format("{}: resuming {} at epoch {} step {}\n", stage.name, paths.last_checkpoint,
                       state.epoch + 1, state.step_in_epoch);
  }
  // What the earlier attempts did up to their checkpoint is part of this stage's record.
  for (const auto& [name, pairs] : state.history) {
    for (const auto& [step, value] : pairs) {
      history[name].steps.push_back(step);
      history[name].values.push_back(value);
    }
  }
  state.attempts = std::max<int64_t>(state.attempts, 0) + 1;
  const double earlier_train_time_s = state.train_time_s;
  const double earlier_wall_time_s = state.wall_time_s;
  const core::Stopwatch attempt_clock;
  // Every rank starts from rank 0's weights (initialisations may differ by rank).
  distributed::broadcast_module(model, tensors);

  TrainingOutcome outcome;
  outcome.train_time_s = earlier_train_time_s;
  outcome.earlier_wall_time_s = earlier_wall_time_s;
  outcome.attempts = state.attempts;
  // The state a checkpoint written now stores: the attempts' history and costs so far.
  const auto with_attempts = [&](TrainingState checkpoint_state) {
    checkpoint_state.history.clear();
    for (const auto& [name, series] : history) {
      auto& pairs = checkpoint_state.history[name];
      for (size_t i = 0; i < series.steps.size(); ++i) {
        pairs.emplace_back(series.steps[i], series.values[i]);
      }
    }
    checkpoint_state.train_time_s = outcome.train_time_s;
    checkpoint_state.wall_time_s = earlier_wall_time_s + attempt_clock.seconds();
    return checkpoint_state;
  };
  const bool keep_best = settings.select == "best";
  const auto evaluate_now = [&](int64_t epoch) {
    const int64_t every = settings.eval_every_epochs;
    const bool last = epoch + 1 == settings.epochs;
    // Keeping the last epoch, its evaluation is the final one below, of the kept checkpoint.
    if (last) return keep_best;
    return every > 0 && (epoch + 1) % every == 0;
  };
  for (int64_t epoch = state.epoch; epoch < settings.epochs; ++epoch) {
    loader.start_epoch(epoch);
    ProgressReporter progress(fmt::format("{} epoch {}/{}", stage.name, epoch + 1, settings.epochs),
                              steps_per_epoch, 0);
    int64_t step_in_epoch = 0;
    // Resuming mid-epoch (after a preemption): the batches already trained on are read and
    // dropped, so the data order and every random engine continue exactly as before.
    const int64_t skip = epoch == state.epoch ? state.step_in_epoch : 0;
    while (step_in_epoch < skip && loader.next()) ++step_in_epoch;
    core::Stopwatch epoch_training;
    while (auto batch = loader.next()) {
      schedule->apply(optimizer, state.schedule_step);
      optimizer.zero_grad();
      const tasks::StepLoss loss = [&] {
        const core::CudaAutocastScope autocast(mixed_precision);
        return context.task().loss(model, batch->to(context.device(), /*non_blocking=*/true));
      }();
      const double loss_value = loss.total.item<double>();
      PTQAT_CHECK(std::isfinite(loss_value), Error,
                  "{}: the loss is {} at epoch {} step {} (lower the lr?)", stage.name, loss_value,
                  epoch + 1, step_in_epoch + 1);
      // Each rank's loss scaled by 1 / ranks: the summed gradients are the average
      // (distributed/gradient_buckets.h), with no pass to divide them.
      if (gradients) {
        (loss.total * gradients->loss_scale()).backward();
        gradients->sum_gradients();
      } else {
        loss.total.backward();
      }
      if (settings.grad_clip_norm > 0) {
        torch::nn::utils::clip_grad_norm_(parameters, settings.grad_clip_norm);
      }
      optimizer.step();
      ++state.schedule_step;
      ++state.global_step;
      history["loss"].steps.push_back(state.global_step);
      history["loss"].values.push_back(loss_value);
      progress.update(++step_in_epoch,
                      {{"loss", loss_value}, {"lr", schedule->lr(state.schedule_step - 1)}});
      if (core::preemption_agreed(group)) {
        // Every rank of the group stops after this same step.
        TrainingState resume_point = state;
        resume_point.step_in_epoch = step_in_epoch;
        if (context.writes()) {
          outcome.train_time_s += epoch_training.seconds();
          save_checkpoint(paths.last_checkpoint, model, optimizer, with_attempts(resume_point));
        }
        group.barrier();
        PTQAT_FAIL(core::Preempted, "{}: stopped at epoch {} step {}; resume point {}", stage.name,
                   epoch + 1, step_in_epoch, paths.last_checkpoint);
      }
    }
    outcome.train_time_s += epoch_training.seconds();
    progress.finish();
    state.epoch = epoch + 1;
    state.step_in_epoch = 0;
    // Data parallel, each rank's BatchNorm statistics follow its own shard: rank 0's are the
    // model (as DDP's broadcast_buffers), on every rank before a sharded evaluation, and in the
    // checkpoint. Without this, each shard was evaluated with another model than the one kept.
    if (group.world_size() > 1) distributed::broadcast_module(model, tensors);
    if (evaluate_now(epoch)) {
      const tasks::TaskMetrics latest =
          keep_best ? context.evaluate_for_selection(model) : context.evaluate(model, {});
      out << fmt::format("{} epoch {}{}: {}\n", stage.name, epoch + 1,
                         keep_best ? " (selection split)" : "", tasks::summary_line(latest))
          << std::flush;
      const bool scored = latest.has_ground_truth;
      const double value = scored ? latest.scalars.at(latest.primary) : 0.0;
      if (scored) {
        auto& values = history[(keep_best ? "select_" : "val_") + latest.primary];
        values.steps.push_back(state.global_step);
        values.values.push_back(value);
      }
      // The best on the selection split; without ground truth the latest.
      if (keep_best && (!scored || std::isnan(state.best_metric) || value > state.best_metric)) {
        state.best_metric = scored ? value : state.best_metric;
        if (context.writes()) {
          save_checkpoint(paths.checkpoint, model, optimizer, with_attempts(state));
        }
      }
    }
    const bool last_epoch = epoch + 1 == settings.epochs;
    if (context.writes()) {
      if (last_epoch && !keep_best) {
        save_checkpoint(paths.checkpoint, model, optimizer, with_attempts(state));
      }
      save_checkpoint(paths.last_checkpoint, model, optimizer, with_attempts(state));
    }
    group.barrier();  // the checkpoints are complete before any rank may read them
  }
  // The kept model, as its file holds it, evaluated as `ptqat eval` evaluates it.
  load_model_weights(paths.checkpoint, model);
  outcome.kept = context.evaluate(model, {});
  if (!keep_best && outcome.kept.has_ground_truth) {
    auto& values = history["val_" + outcome.kept.primary];
    values.steps.push_back(state.global_step);
    values.values.push_back(outcome.kept.scalars.at(outcome.kept.primary));
  }
  out << fmt::format("{} kept {} checkpoint: {}\n", stage.name, keep_best ? "the best" : "the last",
                     tasks::summary_line(outcome.kept))
      << std::flush;
  return outcome;
}

}  // namespace ptqat::runner
