#include "runner/train_config.h"

#include <tuple>

#include "core/error.h"

namespace ptqat::runner {
namespace {

void validate_fields(const OptimizerConfig& config, const char* section) {
  PTQAT_CHECK(config.pct_start < 1.0, ConfigError, "{}.pct_start: expected a value < 1, got {}",
              section, config.pct_start);
  PTQAT_CHECK(config.base_momentum <= config.max_momentum, ConfigError,
              "{}.base_momentum: expected a value <= {}.max_momentum ({}), got {}", section,
              section, config.max_momentum, config.base_momentum);
}

}  // namespace

void OptimizerConfig::visit_fields(core::ConfigVisitor& v, core::Stage stage) {
  using core::IntRange;
  using core::RealRange;
  v.field({"epochs", "passes over the training split", stage}, epochs, IntRange{1, 100000});
  v.field({"lr", "peak learning rate (one-cycle max_lr; cosine lr after warmup)", stage}, lr,
          RealRange{0.0, 10.0, true});
  v.field({"weight_decay", "AdamW decoupled weight decay", stage}, weight_decay,
          RealRange{0.0, 10.0});
  v.choice({"schedule", "learning-rate schedule", stage}, schedule,
           {{ScheduleKind::kOneCycle, "onecycle"}, {ScheduleKind::kCosine, "cosine"}});
  v.field({"pct_start", "one-cycle: fraction of steps raising the lr, < 1", stage}, pct_start,
          RealRange{0.0, 1.0, true});
  v.field({"div_factor", "one-cycle: first lr = lr / div_factor", stage}, div_factor,
          RealRange{1.0, 1e9});
  v.field({"final_div_factor", "one-cycle: last lr = lr / div_factor / final_div_factor", stage},
          final_div_factor, RealRange{1.0, 1e12});
  v.field({"cycle_momentum", "one-cycle: cycle AdamW beta1 opposite to the lr", stage},
          cycle_momentum);
  v.field({"base_momentum", "one-cycle: beta1 at the peak lr", stage}, base_momentum,
          RealRange{0.0, 0.999});
  v.field({"max_momentum", "one-cycle: beta1 at the first and last step", stage}, max_momentum,
          RealRange{0.0, 0.999});
  v.field({"warmup_steps", "cosine: optimizer steps of linear warmup", stage}, warmup_steps,
          IntRange{0, 100000000});
  v.field({"min_lr_ratio", "cosine: last lr = lr * min_lr_ratio", stage}, min_lr_ratio,
          RealRange{0.0, 1.0});
  v.field({"grad_clip_norm", "clip gradients to this global L2 norm; 0 = off", stage},
          grad_clip_norm, RealRange{0.0, 1e9});
  v.field({"eval_every_epochs", "evaluate every this many epochs; 0 = after the last", stage},
          eval_every_epochs, IntRange{0, 100000});
  v.choice(
      {"select", "model kept: last epoch, or best on data.select_split (never eval_split)", stage},
      select, {"last", "best"});
  v.field(
      {"ranks", "data-parallel ranks (global batch = batch_size x ranks); 0 = as launched", stage},
      ranks, IntRange{0, 1 << 20});
  v.field({"sync_batchnorm", "BatchNorm statistics over all ranks (SyncBatchNorm)", stage},
          sync_batchnorm);
  v.choice({"mixed_precision", "none, or bf16: CUDA autocast for the forward (fake-quant in fp32)",
            stage},
           mixed_precision, {"none", "bf16"});
  v.field({"deterministic", "use deterministic algorithms (slower, bit-reproducible)", stage},
          deterministic);
}

void TrainConfig::visit(core::ConfigVisitor& v) {
  v.section("train", [&] { visit_fields(v, core::Stage::kFloatTrain); });
}

void FineTuneConfig::visit(core::ConfigVisitor& v) {
  v.section("finetune", [&] { visit_fields(v, core::Stage::kFineTune); });
}

void validate(const TrainConfig& config) { validate_fields(config, "train"); }

void validate(const FineTuneConfig& config) { validate_fields(config, "finetune"); }

torch::optim::AdamWOptions adamw_options(const OptimizerConfig& config) {
  const bool one_cycle = config.schedule == ScheduleKind::kOneCycle;
  // Step-0 values, as PyTorch leaves them in the param groups after constructing the scheduler.
  const double lr = one_cycle ? config.lr / config.div_factor : config.lr;
  const double beta1 = one_cycle && config.cycle_momentum ? config.max_momentum : 0.9;
  return torch::optim::AdamWOptions(lr)
      .betas(std::make_tuple(beta1, 0.999))
      .eps(1e-8)
      .weight_decay(config.weight_decay);
}

std::vector<torch::optim::OptimizerParamGroup> adamw_param_groups(
    const std::vector<torch::Tensor>& parameters, const OptimizerConfig& config) {
  std::vector<torch::Tensor> decayed, not_decayed;
  for (const torch::Tensor& parameter : parameters) {
    (parameter.dim() >= 2 ? decayed : not_decayed).push_back(parameter);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (auto* group : {&decayed, &not_decayed}) {
    if (group->empty()) continue;
    auto options = std::make_unique<torch::optim::AdamWOptions>(adamw_options(config));
    if (group == &not_decayed) options->weight_decay(0.0);
    groups.emplace_back(*group, std::move(options));
  }
  return groups;
}

}  // namespace ptqat::runner
