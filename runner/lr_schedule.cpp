#include "runner/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/error.h"

namespace ptqat::runner {
namespace {

constexpr double kPi = 3.14159265358979323846;  // Python's math.pi

/// PyTorch's OneCycleLR._annealing_cos, in the same operation order so that the values agree to
/// the last bit: cosine from `start` (pct 0) to `end` (pct 1).
double annealing_cos(double start, double end, double pct) {
  const double cos_out = std::cos(kPi * pct) + 1.0;
  return end + (start - end) / 2.0 * cos_out;
}

}  // namespace

LrSchedule::LrSchedule(int64_t total_steps) : total_steps_(total_steps) {
  PTQAT_CHECK(total_steps >= 1, ConfigError,
              "learning-rate schedule: expected at least 1 optimizer step, got {}", total_steps);
}

void LrSchedule::check_step(int64_t step) const {
  PTQAT_ASSERT(step >= 0 && step < total_steps_, "schedule step {} outside [0, {})", step,
               total_steps_);
}

void LrSchedule::apply(torch::optim::AdamW& optimizer, int64_t step) const {
  const double rate = lr(step);
  const std::optional<double> momentum = beta1(step);
  for (auto& group : optimizer.param_groups()) {
    auto& options = static_cast<torch::optim::AdamWOptions&>(group.options());
    options.lr(rate);
    if (momentum) options.betas(std::make_tuple(*momentum, std::get<1>(options.betas())));
  }
}

OneCycleSchedule::OneCycleSchedule(const Options& options, int64_t total_steps)
    : LrSchedule(total_steps),
      options_(options),
      initial_lr_(options.max_lr / options.div_factor),
      min_lr_(initial_lr_ / options.final_div_factor),
      // PyTorch: float(pct_start * total_steps) - 1, kept fractional.
      rise_end_(options.pct_start * static_cast<double>(total_steps) - 1.0) {
  PTQAT_CHECK(options.pct_start > 0.0 && options.pct_start < 1.0, ConfigError,
              "one-cycle schedule: expected pct_start in (0, 1), got {}", options.pct_start);
  PTQAT_CHECK(
      options.max_lr > 0.0 && options.div_factor > 0.0 && options.final_div_factor > 0.0,
      ConfigError,
      "one-cycle schedule: expected max_lr, div_factor, final_div_factor > 0, got {}, {}, {}",
      options.max_lr, options.div_factor, options.final_div_factor);
}

OneCycleSchedule::Position OneCycleSchedule::position(int64_t step) const {
  check_step(step);
  const auto s = static_cast<double>(step);
  if (s <= rise_end_) {
    // PyTorch divides 0 by 0 here when pct_start * total_steps == 1; a rising phase of no length
    // has reached its end.
    return {true, rise_end_ > 0.0 ? s / rise_end_ : 1.0};
  }
  const double fall_end = static_cast<double>(total_steps() - 1);
  return {false, (s - rise_end_) / (fall_end - rise_end_)};
}

double OneCycleSchedule::lr(int64_t step) const {
  const Position at = position(step);
  return at.rising ? annealing_cos(initial_lr_, options_.max_lr, at.pct)
                   : annealing_cos(options_.max_lr, min_lr_, at.pct);
}

std::optional<double> OneCycleSchedule::beta1(int64_t step) const {
  if (!options_.cycle_momentum) return std::nullopt;
  const Position at = position(step);
  return at.rising ? annealing_cos(options_.max_momentum, options_.base_momentum, at.pct)
                   : annealing_cos(options_.base_momentum, options_.max_momentum, at.pct);
}

CosineSchedule::CosineSchedule(double lr, double min_lr, int64_t warmup_steps, int64_t total_steps)
    : LrSchedule(total_steps), lr_(lr), min_lr_(min_lr), warmup_steps_(warmup_steps) {
  PTQAT_CHECK(
      warmup_steps >= 0 && warmup_steps < total_steps, ConfigError,
      "cosine schedule: expected warmup_steps in [0, {}) (the total optimizer steps), got {}",
      total_steps, warmup_steps);
  PTQAT_CHECK(lr > 0.0 && min_lr >= 0.0 && min_lr <= lr, ConfigError,
              "cosine schedule: expected 0 <= min_lr <= lr and lr > 0, got min_lr {}, lr {}",
              min_lr, lr);
}

double CosineSchedule::lr(int64_t step) const {
  check_step(step);
  if (step < warmup_steps_) {
    return lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
  }
  // The cosine starts at the step that reached lr (the last warmup step, or step 0) and ends at
  // the last step; a single-step cosine stays at lr.
  const int64_t start = std::max<int64_t>(warmup_steps_ - 1, 0);
  const int64_t length = total_steps() - 1 - start;
  const double progress =
      length > 0 ? static_cast<double>(step - start) / static_cast<double>(length) : 0.0;
  return min_lr_ + (lr_ - min_lr_) * 0.5 * (1.0 + std::cos(kPi * progress));
}

std::unique_ptr<LrSchedule> make_schedule(const OptimizerConfig& config, int64_t total_steps) {
  switch (config.schedule) {
    case ScheduleKind::kOneCycle: {
      OneCycleSchedule::Options options;
      options.max_lr = config.lr;
      options.pct_start = config.pct_start;
      options.div_factor = config.div_factor;
      options.final_div_factor = config.final_div_factor;
      options.cycle_momentum = config.cycle_momentum;
      options.base_momentum = config.base_momentum;
      options.max_momentum = config.max_momentum;
      return std::make_unique<OneCycleSchedule>(options, total_steps);
    }
    case ScheduleKind::kCosine:
      return std::make_unique<CosineSchedule>(config.lr, config.lr * config.min_lr_ratio,
                                              config.warmup_steps, total_steps);
  }
  PTQAT_ASSERT(false, "unknown schedule kind {}", static_cast<int>(config.schedule));
}

}  // namespace ptqat::runner
