// Every shipped run config builds its task and model; task-specific config errors name the key.

#include "runner/task_factory.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "quant/layer_discovery.h"
#include "tests/support/expect_error.h"

namespace ptqat::runner {
namespace {

using ptqat::testing::expect_error;

const std::string kConfigs = std::string(PTQAT_SOURCE_DIR) + "/configs";

TEST(TaskFactory, EveryShippedConfigBuildsItsModel) {
  int built = 0;
  for (const char* folder : {"detection", "segmentation", "occupancy"}) {
    for (const auto& entry : std::filesystem::directory_iterator(kConfigs + "/" + folder)) {
      const RunConfig config = load_run_config(entry.path().string(), {});
      EXPECT_EQ(config.task, folder) << entry.path();
      // Building needs no data: the index is only read by training and evaluation.
      const auto model = make_task(config, nullptr)->build_model();
      EXPECT_GT(quant::find_quantizable_layers(*model).size(), 3u) << entry.path();
      ++built;
    }
  }
  EXPECT_GE(built, 12);
}

TEST(TaskFactory, OccupancyNeedsTheEgoFrameAndOcc3dGrid) {
  const std::string tiny = kConfigs + "/occupancy/tiny.toml";
  expect_error<ConfigError>([&] { make_task(load_run_config(tiny, {"data.frame=lidar"}), nullptr); },
                            {"data.frame: expected \"ego\"", "got \"lidar\""});
  expect_error<ConfigError>(
      [&] {
        make_task(load_run_config(tiny, {"pillars.point_range=[-51.2, -51.2, -1, 51.2, 51.2, 5.4]"}),
                  nullptr);
      },
      {"pillars.point_range: expected x and y over Occ3D's grid [-40, 40] m"});
}

TEST(TaskFactory, TransformerSettingsAreChecked) {
  const std::string tiny = kConfigs + "/detection/transformer_tiny.toml";
  expect_error<ConfigError>([&] { load_run_config(tiny, {"model.transformer.heads=3"}); },
                            {"model.transformer.heads: expected a divisor of embed_dim 16"});
  expect_error<ConfigError>([&] { load_run_config(tiny, {"model.transformer.window=5"}); },
                            {"model.transformer.window: expected a divisor of the token grid"});
}

}  // namespace
}  // namespace ptqat::runner
