#include "runner/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "core/config_toml.h"
#include "core/error.h"
#include "core/stage_key.h"

namespace ptqat::runner {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Expected values below follow torch/optim/lr_scheduler.py (OneCycleLR, three_phase=False):
//   initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor,
//   phase 1 ends at step pct_start * total - 1, phase 2 at total - 1,
//   pct = (step - phase_start) / (phase_end - phase_start),
//   anneal_cos(a, b, pct) = b + (a - b) / 2 * (cos(pi * pct) + 1).
// Where the cosine sits at 0, 1/2 or 1 of its phase the value is written out as a number.

OneCycleSchedule::Options centerpoint_options() {
  OneCycleSchedule::Options options;
  options.max_lr = 1e-3;
  options.pct_start = 0.4;
  options.div_factor = 10.0;
  options.final_div_factor = 1e4;
  return options;
}

TEST(OneCycleSchedule, StartsAtMaxLrOverDivFactorWithMaxMomentum) {
  const OneCycleSchedule schedule(centerpoint_options(), 100);
  EXPECT_DOUBLE_EQ(schedule.lr(0), 1e-4);  // 1e-3 / 10
  EXPECT_DOUBLE_EQ(*schedule.beta1(0), 0.95);
}

TEST(OneCycleSchedule, PeaksAtPctStartTimesTotalMinusOne) {
  const OneCycleSchedule schedule(centerpoint_options(), 100);
  // Phase 1 ends at 0.4 * 100 - 1 = 39.
  EXPECT_DOUBLE_EQ(schedule.lr(39), 1e-3);
  EXPECT_DOUBLE_EQ(*schedule.beta1(39), 0.85);
  EXPECT_LT(schedule.lr(38), 1e-3);
  EXPECT_LT(schedule.lr(40), 1e-3);
}

TEST(OneCycleSchedule, HalfwayThroughAnnealingIsTheMidpoint) {
  const OneCycleSchedule schedule(centerpoint_options(), 100);
  // Phase 2 runs 39 -> 99; step 69 is pct 0.5, cos = 0: (max_lr + min_lr) / 2 with
  // min_lr = 1e-4 / 1e4 = 1e-8; momentum halfway between 0.85 and 0.95.
  EXPECT_DOUBLE_EQ(schedule.lr(69), (1e-3 + 1e-8) / 2.0);
  EXPECT_DOUBLE_EQ(*schedule.beta1(69), 0.90);
}

TEST(OneCycleSchedule, LastStepReachesMinLrAndMaxMomentum) {
  const OneCycleSchedule schedule(centerpoint_options(), 100);
  EXPECT_DOUBLE_EQ(schedule.lr(99), 1e-8);
  EXPECT_DOUBLE_EQ(*schedule.beta1(99), 0.95);
}

TEST(OneCycleSchedule, IntermediateStepsFollowTheCosineFormula) {
  const OneCycleSchedule schedule(centerpoint_options(), 100);
  // Step 20 in phase 1: pct = 20 / 39.
  const double pct1 = 20.0 / 39.0;
  EXPECT_DOUBLE_EQ(schedule.lr(20), 1e-3 + (1e-4 - 1e-3) / 2.0 * (std::cos(kPi * pct1) + 1.0));
  EXPECT_DOUBLE_EQ(*schedule.beta1(20), 0.85 + (0.95 - 0.85) / 2.0 * (std::cos(kPi * pct1) + 1.0));
  // Step 84 in phase 2: pct = (84 - 39) / (99 - 39) = 0.75.
  EXPECT_DOUBLE_EQ(schedule.lr(84), 1e-8 + (1e-3 - 1e-8) / 2.0 * (std::cos(kPi * 0.75) + 1.0));
}

TEST(OneCycleSchedule, PyTorchDefaultsKeepTheFractionalPhaseBoundary) {
  // PyTorch defaults (pct_start 0.3, div_factor 25) over 25 steps: phase 1 ends at the
  // fractional step 0.3 * 25 - 1 = 6.5, which no step reaches; phase 2 starts counting from it.
  OneCycleSchedule::Options options;
  options.max_lr = 0.01;
  const OneCycleSchedule schedule(options, 25);
  const double initial_lr = 0.01 / 25.0, min_lr = 0.01 / 25.0 / 1e4;
  // Step 0 is anneal_cos at pct 0: 0.01 + (0.0004 - 0.01) / 2 * 2, which cancels to a few ulps
  // below 0.0004 (as in PyTorch, whose formula this is), so it is compared with the formula.
  EXPECT_DOUBLE_EQ(schedule.lr(0), 0.01 + (initial_lr - 0.01) / 2.0 * (std::cos(0.0) + 1.0));
  EXPECT_NEAR(schedule.lr(0), initial_lr, 1e-17);
  const double pct6 = 6.0 / 6.5;
  EXPECT_DOUBLE_EQ(schedule.lr(6), 0.01 + (initial_lr - 0.01) / 2.0 * (std::cos(kPi * pct6) + 1.0));
  EXPECT_DOUBLE_EQ(*schedule.beta1(6), 0.85 + (0.95 - 0.85) / 2.0 * (std::cos(kPi * pct6) + 1.0));
  const double pct7 = (7.0 - 6.5) / (24.0 - 6.5);
  EXPECT_DOUBLE_EQ(schedule.lr(7), min_lr + (0.01 - min_lr) / 2.0 * (std::cos(kPi * pct7) + 1.0));
  EXPECT_DOUBLE_EQ(schedule.lr(24), min_lr);
}

TEST(OneCycleSchedule, WithoutMomentumCyclingBeta1IsLeftAlone) {
  OneCycleSchedule::Options options = centerpoint_options();
  options.cycle_momentum = false;
  EXPECT_FALSE(OneCycleSchedule(options, 100).beta1(10).has_value());
}

TEST(OneCycleSchedule, StepsOutsideTheScheduleAreABug) {
  const OneCycleSchedule schedule(centerpoint_options(), 100);
  EXPECT_THROW(schedule.lr(100), InternalError);
  EXPECT_THROW(schedule.lr(-1), InternalError);
}

TEST(CosineSchedule, WarmsUpLinearlyToLr) {
  // lr 1e-3, min_lr 1e-5, 10 warmup steps of 100: step s < 10 has 1e-3 * (s + 1) / 10.
  const CosineSchedule schedule(1e-3, 1e-5, 10, 100);
  EXPECT_DOUBLE_EQ(schedule.lr(0), 1e-4);
  EXPECT_DOUBLE_EQ(schedule.lr(4), 5e-4);
  EXPECT_DOUBLE_EQ(schedule.lr(9), 1e-3);
  EXPECT_FALSE(schedule.beta1(0).has_value());
}

TEST(CosineSchedule, DecaysToMinLrAtTheLastStep) {
  const CosineSchedule schedule(1e-3, 1e-5, 10, 100);
  // The cosine runs from step 9 (lr) to step 99 (min_lr); step 54 is its midpoint.
  EXPECT_DOUBLE_EQ(schedule.lr(54), (1e-3 + 1e-5) / 2.0);
  EXPECT_DOUBLE_EQ(schedule.lr(99), 1e-5);
  EXPECT_LT(schedule.lr(10), 1e-3);
}

TEST(CosineSchedule, WithoutWarmupStartsAtLr) {
  const CosineSchedule schedule(2e-3, 0.0, 0, 11);
  EXPECT_DOUBLE_EQ(schedule.lr(0), 2e-3);
  EXPECT_DOUBLE_EQ(schedule.lr(5), 1e-3);  // 5 / 10 of the cosine
  EXPECT_NEAR(schedule.lr(10), 0.0, 1e-18);
}

TEST(CosineSchedule, WarmupAsLongAsTheRunIsAConfigError) {
  EXPECT_THROW(CosineSchedule(1e-3, 0.0, 100, 100), ConfigError);
}

TEST(LrSchedule, ApplySetsLrAndBeta1OnEveryParamGroup) {
  auto a = torch::zeros({2}, torch::requires_grad());
  auto b = torch::zeros({3}, torch::requires_grad());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a});
  groups.emplace_back(std::vector<torch::Tensor>{b},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(0.5).betas(std::make_tuple(0.1, 0.5))));
  torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(0.25));

  const OneCycleSchedule schedule(centerpoint_options(), 100);
  schedule.apply(optimizer, 69);
  for (auto& group : optimizer.param_groups()) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    EXPECT_DOUBLE_EQ(options.lr(), (1e-3 + 1e-8) / 2.0);
    EXPECT_DOUBLE_EQ(std::get<0>(options.betas()), 0.90);
  }
  // beta2 is the group's own.
  const auto& second =
      static_cast<const torch::optim::AdamWOptions&>(optimizer.param_groups()[1].options());
  EXPECT_DOUBLE_EQ(std::get<1>(second.betas()), 0.5);

  CosineSchedule(1e-3, 1e-5, 10, 100).apply(optimizer, 4);
  for (auto& group : optimizer.param_groups()) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    EXPECT_DOUBLE_EQ(options.lr(), 5e-4);
    EXPECT_DOUBLE_EQ(std::get<0>(options.betas()), 0.90);  // untouched by cosine
  }
}

TEST(LrSchedule, MakeScheduleAndAdamwOptionsFollowTheConfig) {
  TrainConfig config;
  config.lr = 1e-3;
  config.div_factor = 10.0;
  config.weight_decay = 0.05;
  const auto schedule = make_schedule(config, 50);
  EXPECT_DOUBLE_EQ(schedule->lr(0), 1e-4);
  EXPECT_EQ(schedule->total_steps(), 50);
  const auto options = adamw_options(config);
  EXPECT_DOUBLE_EQ(options.lr(), 1e-4);
  EXPECT_DOUBLE_EQ(std::get<0>(options.betas()), 0.95);
  EXPECT_DOUBLE_EQ(options.weight_decay(), 0.05);

  config.schedule = ScheduleKind::kCosine;
  config.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(make_schedule(config, 50)->lr(49), 1e-4);
}

struct BothStages {
  TrainConfig train;
  FineTuneConfig finetune;
  void visit(core::ConfigVisitor& v) {
    train.visit(v);
    finetune.visit(v);
  }
};

TEST(OptimizerConfig, TrainAndFineTuneSectionsEnterOnlyTheirStageKeys) {
  const auto key = [](core::Stage stage, const std::vector<std::string>& overrides) {
    auto config = core::load_config<BothStages>("", overrides);
    return core::stage_key(core::fields_of(config), stage, "");
  };
  const std::string float_key = key(core::Stage::kFloatTrain, {});
  const std::string tune_key = key(core::Stage::kFineTune, {});
  EXPECT_NE(key(core::Stage::kFloatTrain, {"train.lr=0.002"}), float_key);
  EXPECT_EQ(key(core::Stage::kFineTune, {"train.lr=0.002"}), tune_key);
  EXPECT_NE(key(core::Stage::kFineTune, {"finetune.schedule=cosine"}), tune_key);
  EXPECT_EQ(key(core::Stage::kFloatTrain, {"finetune.schedule=cosine"}), float_key);
}

TEST(OptimizerConfig, RangesAndCrossFieldRulesAreConfigErrors) {
  EXPECT_THROW(core::load_config<TrainConfig>("", {"train.schedule=linear"}), ConfigError);
  EXPECT_THROW(core::load_config<TrainConfig>("", {"train.lr=0"}), ConfigError);
  auto config = core::load_config<TrainConfig>("", {"train.pct_start=1.0"});
  EXPECT_THROW(validate(config), ConfigError);
  auto tune = core::load_config<FineTuneConfig>(
      "", {"finetune.base_momentum=0.96", "finetune.max_momentum=0.95"});
  EXPECT_THROW(validate(tune), ConfigError);
  validate(TrainConfig{});
  validate(FineTuneConfig{});
}

}  // namespace
}  // namespace ptqat::runner
