#pragma once
// The training settings of the run config: float training (section "train") and QAT / PTQAT
// fine-tuning (section "finetune"), each an AdamW optimizer with a learning-rate schedule
// (runner/lr_schedule.h) and the loop's own knobs.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

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
  /// Which model the stage keeps: "last" (the last epoch's; the periodic evaluations on
  /// data.eval_split are a learning curve only), or "best" (the best of the periodic
  /// evaluations on data.select_split, a held-out split that is never the reported one).
  std::string select = "last";
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
  /// float32: core/autocast.h); ignored on the CPU.
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

/// The trainable parameters of a stage as AdamW parameter groups: weights (two or more
/// dimensions) decay with config.weight_decay; biases, normalisation parameters and LSQ scales
/// (one dimension or none) do not, as standard training recipes (timm, mmdetection's
/// norm_decay_mult = 0) do. Both groups take adamw_options(config) otherwise; an empty group is
/// left out.
std::vector<torch::optim::OptimizerParamGroup> adamw_param_groups(
    const std::vector<torch::Tensor>& parameters, const OptimizerConfig& config);

}  // namespace ptqat::runner
