#include "runner/run_config.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "core/stage_key.h"

namespace ptqat::runner {

namespace {

std::string float_key(const std::vector<std::string>& overrides) {
  RunConfig config = load_run_config("", overrides);
  return core::stage_key(core::fields_of(config), core::Stage::kFloatTrain, "");
}

}  // namespace

TEST(RunConfig, PathsThreadsWorkersAndLoggingNeverChangeTheFloatTrainingKey) {
  EXPECT_EQ(float_key({"data.dataroot=/mnt/nuscenes", "runtime.threads=16",
                       "runtime.log_level=debug", "loader.workers=7", "loader.prefetch=9",
                       "runtime.device=cpu", "data.occupancy_dir=/mnt/occ3d"}),
            float_key({}));
}

TEST(RunConfig, WhatChangesTheDataOrTheBatchesChangesTheFloatTrainingKey) {
  const std::string base = float_key({});
  for (const char* change :
       {"seed=1", "data.version=v1.0-trainval", "data.train_split=train", "data.nsweeps=9",
        "loader.batch_size=3", "pillars.max_points_per_pillar=32", "augment.flip_x=false"}) {
    EXPECT_NE(float_key({change}), base) << change;
  }
  // The evaluation split changes the evaluation, not the trained model.
  EXPECT_EQ(float_key({"data.eval_split=val"}), base);
}

TEST(RunConfig, CrossFieldRulesAreCheckedOnLoad) {
  EXPECT_THROW(load_run_config("", {"pillars.pillar_size=[0.3, 0.3]"}), ConfigError);
  EXPECT_THROW(load_run_config("", {"augment.scale=[1.1, 0.9]"}), ConfigError);
}

TEST(RunConfig, DetectionPresetsLoadAndDifferInTheFloatTrainingKey) {
  std::set<std::string> keys;
  for (const char* preset : {"tiny", "demo", "full"}) {
    const std::string path =
        std::string(PTQAT_SOURCE_DIR) + "/configs/detection/" + preset + ".toml";
    RunConfig config = load_run_config(path, {});
    EXPECT_EQ(config.task, "detection") << path;
    keys.insert(core::stage_key(core::fields_of(config), core::Stage::kFloatTrain, ""));
  }
  EXPECT_EQ(keys.size(), 3u);
}

TEST(RunConfig, QuantizationAndFineTuneFieldsStayOutOfTheFloatTrainingKey) {
  EXPECT_EQ(float_key({"quant.weight.bits=4", "quant.freeze_ratio=0.25", "finetune.lr=0.5",
                       "output.dir=/tmp/elsewhere"}),
            float_key({}));
  EXPECT_NE(float_key({"train.lr=0.5"}), float_key({}));
  EXPECT_NE(float_key({"detection.head_channels=32"}), float_key({}));
}

}  // namespace ptqat::runner

namespace ptqat::runner {

TEST(RunConfig, WithRanksResolvesTheLaunchAndTheRankCountIsPartOfTheKeys) {
  const RunConfig launched = load_run_config("", {});
  RunConfig two = with_ranks(launched, 2);
  EXPECT_EQ(two.train.ranks, 2);
  EXPECT_EQ(two.finetune.ranks, 2);
  EXPECT_EQ(with_ranks(two, 2).train.ranks, 2);
  RunConfig one = with_ranks(launched, 1);
  // Two ranks double the global batch: another stage.
  EXPECT_NE(core::stage_key(core::fields_of(one), core::Stage::kFloatTrain, ""),
            core::stage_key(core::fields_of(two), core::Stage::kFloatTrain, ""));
  try {
    with_ranks(two, 4);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("train.ranks = 2, but this stage runs on 4 ranks"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace ptqat::runner
