#pragma once
// Optimizer settings and learning-rate schedules of a training stage. LibTorch 1.13 ships only
// step-wise schedulers, so the two schedules the paper's recipes use are written here: the
// one-cycle schedule of PyTorch's OneCycleLR (CenterPoint's "cyclic" lr and momentum) and a
// linear-warmup cosine schedule. A schedule is a pure function of the step; apply() writes its
// values into every parameter group before an optimizer step, so a resumed run only needs the
// step number.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "core/config.h"

namespace ptqat::runner {

enum class ScheduleKind { kOneCycle, kCosine };

/// AdamW and its learning-rate schedule for one training stage. Fields only: TrainConfig and
/// FineTuneConfig put them under their config section and stage.
struct OptimizerConfig {
  int64_t epochs = 20;
  /// Peak learning rate: one-cycle's max_lr, cosine's rate after warmup.
  double lr = 1e-3;
  /// AdamW's decoupled weight decay.
  double weight_decay = 0.01;
  ScheduleKind schedule = ScheduleKind::kOneCycle;
  /// One-cycle: fraction of the steps spent raising the lr (PyTorch 0.3; CenterPoint 0.4).
  double pct_start = 0.3;
  /// One-cycle: the first lr is lr / div_factor (PyTorch 25; CenterPoint 10).
  double div_factor = 25.0;
  /// One-cycle: the last lr is lr / div_factor / final_div_factor.
  double final_div_factor = 1e4;
  /// One-cycle: cycle AdamW's beta1 inversely to the lr, between the two momenta below.
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  /// Cosine: steps of linear warmup to lr.
  int64_t warmup_steps = 0;
  /// Cosine: the last step's lr is lr * min_lr_ratio.
  double min_lr_ratio = 0.0;
  /// Gradient clipping by global L2 norm; 0 = off.
  double grad_clip_norm = 0.0;
  /// Evaluate every this many epochs; 0 = only after the last one.
  int64_t eval_every_epochs = 1;
  /// Deterministic algorithms (torch::globalContext().setDeterministicAlgorithms), slower.
  bool deterministic = false;
  /// Data-parallel ranks the stage trains on; 0 = as launched. The global batch is
  /// loader.batch_size x ranks, so the count is part of the stage key: with_ranks() (run_config.h)
  /// resolves it before a stage runs, and records and checkpoints hold the real count.
  int64_t ranks = 0;
  /// BatchNorm statistics over every rank of the group (quant/sync_batch_norm.h) rather than
  /// per rank: with it, N ranks x batch B train like one process with batch N x B.
  bool sync_batchnorm = false;
  /// "none", or "bf16": the forward runs under CUDA autocast in bfloat16 (fake-quant stays in
  /// float32: runner/autocast.h); ignored on the CPU.
  std::string mixed_precision = "none";

  /// Visits the fields, each declared for `stage`, in the current section.
  void visit_fields(core::ConfigVisitor& v, core::Stage stage);
};

/// Float training (config section "train", Stage::kFloatTrain).
struct TrainConfig : OptimizerConfig {
  void visit(core::ConfigVisitor& v);
};

/// QAT / PTQAT fine-tuning (config section "finetune", Stage::kFineTune).
struct FineTuneConfig : OptimizerConfig {
  void visit(core::ConfigVisitor& v);
};

/// Checks the rules a field's range cannot express (pct_start < 1, base_momentum <=
/// max_momentum), throwing a ConfigError naming the key. Call after reading the config.
void validate(const TrainConfig& config);
void validate(const FineTuneConfig& config);

/// AdamW options for `config`: lr and beta1 are the schedule's step-0 values (apply() rewrites
/// them each step), beta2 0.999, eps 1e-8, the configured weight decay.
torch::optim::AdamWOptions adamw_options(const OptimizerConfig& config);

/// A learning rate (and optionally AdamW's beta1) as a function of the optimizer step.
class LrSchedule {
 public:
  virtual ~LrSchedule() = default;

  /// Learning rate of step `step` (0-based, one per optimizer step).
  virtual double lr(int64_t step) const = 0;
  /// AdamW's beta1 at `step`, or nothing when the schedule leaves it alone.
  virtual std::optional<double> beta1(int64_t /*step*/) const { return std::nullopt; }
  int64_t total_steps() const { return total_steps_; }

  /// Sets lr (and beta1 where the schedule cycles it) on every parameter group of `optimizer`;
  /// call before `optimizer.step()` of step `step`.
  void apply(torch::optim::AdamW& optimizer, int64_t step) const;

 protected:
  explicit LrSchedule(int64_t total_steps);
  /// Throws InternalError when `step` is outside [0, total_steps) (a bug in the caller).
  void check_step(int64_t step) const;

 private:
  int64_t total_steps_;
};

/// PyTorch's OneCycleLR with anneal_strategy "cos" and three_phase false: cosine from
/// max_lr / div_factor up to max_lr over the first pct_start * total_steps - 1 steps, then down
/// to max_lr / div_factor / final_div_factor at step total_steps - 1; beta1 moves the other way,
/// max_momentum -> base_momentum -> max_momentum. Same phase boundary (a fractional step) and
/// the same floating-point operations as PyTorch, so the values are PyTorch's, except where
/// pct_start * total_steps == 1: PyTorch divides by zero at step 0, this gives max_lr.
class OneCycleSchedule : public LrSchedule {
 public:
  struct Options {
    double max_lr = 1e-3;
    double pct_start = 0.3;
    double div_factor = 25.0;
    double final_div_factor = 1e4;
    bool cycle_momentum = true;
    double base_momentum = 0.85;
    double max_momentum = 0.95;
  };

  /// Throws ConfigError for values PyTorch rejects (pct_start outside (0, 1), total_steps < 1).
  OneCycleSchedule(const Options& options, int64_t total_steps);

  double lr(int64_t step) const override;
  std::optional<double> beta1(int64_t step) const override;

 private:
  /// Where `step` lies: in the rising phase or not, and the fraction of that phase done.
  struct Position {
    bool rising;
    double pct;
  };
  Position position(int64_t step) const;

  Options options_;
  double initial_lr_;
  double min_lr_;
  double rise_end_;  ///< pct_start * total_steps - 1, as PyTorch
};

/// Linear warmup, then cosine decay: step s < W (W = warmup_steps) has lr * (s + 1) / W, so the
/// last warmup step reaches lr; from there (step max(W - 1, 0)) a half cosine falls to min_lr at
/// step total_steps - 1.
class CosineSchedule : public LrSchedule {
 public:
  /// Throws ConfigError unless 0 <= warmup_steps < total_steps and 0 <= min_lr <= lr.
  CosineSchedule(double lr, double min_lr, int64_t warmup_steps, int64_t total_steps);

  double lr(int64_t step) const override;

 private:
  double lr_;
  double min_lr_;
  int64_t warmup_steps_;
};

/// The schedule `config` asks for over `total_steps` optimizer steps (epochs * steps per epoch).
std::unique_ptr<LrSchedule> make_schedule(const OptimizerConfig& config, int64_t total_steps);

}  // namespace ptqat::runner
