// Every shipped run config builds its task and model; task-specific config errors name the key;
// a registered task is configured and built like a built-in one.

#include <gtest/gtest.h>

#include <filesystem>
#include <utility>

#include "core/error.h"
#include "quant/layer_discovery.h"
#include "quant/qlinear.h"
#include "runner/stage_context.h"
#include "runner/stage_keys.h"
#include "runner/task_plugins.h"
#include "tests/support/expect_error.h"

namespace ptqat::runner {
namespace {

using ptqat::testing::expect_error;

const std::string kConfigs = std::string(PTQAT_SOURCE_DIR) + "/configs";

TEST(TaskRegistry, EveryShippedConfigBuildsItsModel) {
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

TEST(TaskRegistry, OccupancyNeedsTheEgoFrameAndOcc3dGrid) {
  const std::string tiny = kConfigs + "/occupancy/tiny.toml";
  expect_error<ConfigError>(
      [&] { make_task(load_run_config(tiny, {"data.frame=lidar"}), nullptr); },
      {"data.frame: expected \"ego\"", "got \"lidar\""});
  expect_error<ConfigError>(
      [&] {
        make_task(
            load_run_config(tiny, {"pillars.point_range=[-51.2, -51.2, -1, 51.2, 51.2, 5.4]"}),
            nullptr);
      },
      {"pillars.point_range: expected x and y over Occ3D's grid [-40, 40] m"});
}

TEST(TaskRegistry, TransformerSettingsAreChecked) {
  const std::string tiny = kConfigs + "/detection/transformer_tiny.toml";
  expect_error<ConfigError>([&] { load_run_config(tiny, {"model.transformer.heads=3"}); },
                            {"model.transformer.heads: expected a divisor of embed_dim 16"});
  expect_error<ConfigError>([&] { load_run_config(tiny, {"model.transformer.window=5"}); },
                            {"model.transformer.window: expected a divisor of the token grid"});
}

/// A registered task's options: one field per kind of stage it can change.
struct ToyOptions {
  int64_t width = 4;
  void visit(core::ConfigVisitor& v) {
    v.field({"width", "hidden width of the toy model", core::Stage::kFloatTrain}, width,
            core::IntRange{1, 64});
  }
};

/// A task whose model is one QLinear of the configured width; enough to build and key it.
class ToyTask : public tasks::Task {
 public:
  explicit ToyTask(int64_t width) : width_(width) {}
  std::shared_ptr<torch::nn::Module> build_model() const override {
    return torch::nn::Sequential(quant::QLinear(torch::nn::LinearOptions(3, width_))).ptr();
  }
  void forward(torch::nn::Module&, const datasets::Batch&) const override {}
  tasks::StepLoss loss(torch::nn::Module&, const datasets::Batch&) const override { return {}; }
  std::unique_ptr<tasks::Evaluation> begin_evaluation() const override { return nullptr; }

 private:
  int64_t width_;
};

void register_toy_task() {
  static const bool registered = [] {
    register_task<ToyOptions>("toy", [](const tasks::TaskInputs&, const ToyOptions& options) {
      return std::unique_ptr<tasks::Task>(std::make_unique<ToyTask>(options.width));
    });
    return true;
  }();
  (void)registered;
}

TEST(TaskRegistry, ARegisteredTaskIsConfiguredKeyedAndBuiltLikeABuiltInOne) {
  register_toy_task();
  EXPECT_EQ(tasks::task_names(),
            (std::vector<std::string>{"detection", "segmentation", "occupancy", "toy"}));
  const RunConfig config = parse_run_config("task = \"toy\"\n[toy]\nwidth = 8\n", "toy.toml", {});
  EXPECT_EQ(config.task_options.get<ToyOptions>("toy").width, 8);
  const auto model = make_task(config, nullptr)->build_model();
  const auto layers = quant::find_quantizable_layers(*model);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].layer->folded_weight().size(0), 8);
  // The options are config fields: resolved, range-checked, in the stage key.
  EXPECT_NE(resolved_toml(config).find("[toy]\nwidth = 8"), std::string::npos)
      << resolved_toml(config);
  const RunConfig wider = parse_run_config("task = \"toy\"\n[toy]\nwidth = 9\n", "toy.toml", {});
  EXPECT_NE(stage_keys(config).float_train, stage_keys(wider).float_train);
  expect_error<ConfigError>(
      [] { parse_run_config("task = \"toy\"\n[toy]\nwidth = 0\n", "t.toml", {}); },
      {"t.toml", "toy.width: expected an integer in [1, 64], got 0"});
  expect_error<ConfigError>([] { parse_run_config("task = \"toys\"\n", "t.toml", {}); },
                            {"task: expected one of [detection, segmentation, occupancy, toy]"});
}

TEST(TaskRegistry, NamesMustBeFreeAndWellFormed) {
  register_toy_task();
  const auto maker = [](const tasks::TaskInputs&) {
    return std::unique_ptr<tasks::Task>(std::make_unique<ToyTask>(1));
  };
  const std::pair<const char*, const char*> refused[] = {
      {"toy", "task 'toy' is registered already"},
      {"detection", "task 'detection' is registered already"},
      {"quant", "'quant' is taken"},
      {"My-Task", "task name 'My-Task': expected lower-case letters"}};
  for (const auto& [name, message] : refused) {
    tasks::TaskRegistration registration;
    registration.name = name;
    registration.make = maker;
    expect_error<ConfigError>([&] { runner::register_task(registration); }, {message});
  }
}

}  // namespace
}  // namespace ptqat::runner
