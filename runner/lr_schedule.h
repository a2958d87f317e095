#pragma once
// Learning-rate schedules of a training stage (its settings: runner/train_config.h). LibTorch
// 1.13 ships only step-wise schedulers, so the two schedules the paper's recipes use are written here: the
// one-cycle schedule of PyTorch's OneCycleLR (CenterPoint's "cyclic" lr and momentum) and a
// linear-warmup cosine schedule. A schedule is a pure function of the step; apply() writes its
// values into every parameter group before an optimizer step, so a resumed run only needs the
// step number.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "runner/train_config.h"

namespace ptqat::runner {

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
