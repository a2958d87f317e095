#include "tasks/detection/detection_model_config.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/config_toml.h"
#include "core/error.h"
#include "tests/support/expect_error.h"
#include "tests/tasks/detection/tiny_centerpoint.h"

namespace ptqat::tasks::detection {
namespace {

using ptqat::testing::expect_error;

TEST(DetectionModelConfig, DefaultsAreTheNuScenesPreset) {
  const DetectionModelConfig config;
  const datasets::PillarConfig pillars;
  validate(config, pillars);
  EXPECT_EQ(config.bev.out_size_factor(), 4);
  const HeadGrid grid = head_grid(config, pillars);
  EXPECT_EQ(grid.width, 128);
  EXPECT_EQ(grid.height, 128);
  EXPECT_DOUBLE_EQ(grid.cell_x, 0.8);
  EXPECT_DOUBLE_EQ(grid.x_min, -51.2);
  // car | truck, construction_vehicle | bus, trailer | barrier | motorcycle, bicycle |
  // pedestrian, traffic_cone, in kDetectionNames indices.
  const std::vector<std::vector<int>> groups = {{0}, {1, 4}, {2, 3}, {9}, {6, 7}, {5, 8}};
  EXPECT_EQ(config.class_groups(), groups);
}

TEST(DetectionModelConfig, TinySizesFromTomlOnly) {
  // What configs/detection/tiny.toml holds: the same network, sizes by value.
  const char* text = R"(
[pillars]
point_range = [-12.8, -12.8, -5.0, 12.8, 12.8, 3.0]
pillar_size = [0.4, 0.4]
max_points_per_pillar = 16
max_pillars = 4096

[model]
pfn_channels = [16]
backbone_layers = [1, 1, 1]
backbone_strides = [2, 2, 2]
backbone_channels = [16, 32, 64]
upsample_strides = [0.5, 1.0, 2.0]
upsample_channels = [16, 16, 16]
shared_channels = 16

[detection]
head_channels = 16

[detection.target]
max_objects = 16

[detection.decode]
post_center_range = [-20.0, -20.0, -10.0, 20.0, 20.0, 10.0]
)";
  DetectionModelConfig config;
  datasets::PillarConfig pillars;
  const core::ConfigDocument document = core::ConfigDocument::from_string(text, "tiny.toml");
  document.read_into([&](core::ConfigVisitor& v) {
    pillars.visit(v);
    config.visit(v);
  });
  validate(config, pillars);
  const DetectionModelConfig tiny = testing::tiny_config();
  EXPECT_EQ(config.bev.backbone_channels, tiny.bev.backbone_channels);
  EXPECT_EQ(config.bev.upsample_strides, tiny.bev.upsample_strides);
  EXPECT_EQ(config.target.max_objects, 16);
  EXPECT_EQ(config.decode.post_center_range, tiny.decode.post_center_range);
  EXPECT_EQ(head_grid(config, pillars).width, 16);

  const std::vector<std::string> keys = core::field_keys(core::fields_of(config));
  for (const char* key : {"model.pfn_channels", "detection.target.gaussian_overlap",
                          "detection.loss.code_weights", "detection.decode.circle_nms_threshold"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
}

TEST(DetectionModelConfig, RejectsInconsistentShapes) {
  const datasets::PillarConfig pillars;
  DetectionModelConfig config;
  config.bev.upsample_strides = {1.0, 1.0, 2.0};  // stage 0 at 2, the others at 4
  expect_error<ConfigError>([&] { validate(config, pillars); },
                            {"model.upsample_strides", "stage 1"});
  config = {};
  config.bev.upsample_strides = {0.5, 1.0, 1.5};
  expect_error<ConfigError>([&] { validate(config, pillars); }, {"model.upsample_strides", "1.5"});
  config = {};
  config.bev.backbone_channels = {64, 128};
  expect_error<ConfigError>([&] { validate(config, pillars); },
                            {"model.backbone_channels", "one value per backbone stage"});
  config = {};
  config.task_groups = {"car", "truck, lorry"};
  expect_error<ConfigError>([&] { validate(config, pillars); }, {"detection.task_groups", "'lorry'"});
  config.task_groups = {"car", "car, bus"};
  expect_error<ConfigError>([&] { validate(config, pillars); }, {"detection.task_groups", "twice"});
  config = {};
  config.loss.code_weights = {1.0};
  expect_error<ConfigError>([&] { validate(config, pillars); }, {"detection.loss.code_weights", "10"});
  config = {};
  datasets::PillarConfig odd = pillars;
  odd.point_range = {-50.0, -50.0, -5.0, 50.0, 50.0, 3.0};  // 500 pillars: not divisible by 8
  expect_error<ConfigError>([&] { validate(config, odd); }, {"divisible", "500"});
}

}  // namespace
}  // namespace ptqat::tasks::detection
