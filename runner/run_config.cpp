#include "runner/run_config.h"

#include <filesystem>

#include "core/config_toml.h"
#include "core/error.h"

namespace ptqat::runner {

void OutputConfig::visit(core::ConfigVisitor& v) {
  v.section("output", [&] {
    v.field({"dir", "root of checkpoints, records and results.h5", core::Stage::kNone}, dir);
    v.field({"results", "the results file; empty: <dir>/results.h5", core::Stage::kNone}, results);
  });
}

void RunConfig::visit(core::ConfigVisitor& v) {
  v.field({"seed", "seed of initialisation, shuffling and augmentation", core::Stage::kFloatTrain},
          seed, core::IntRange{0, std::numeric_limits<int32_t>::max()});
  v.choice({"task", "the perception task", core::Stage::kFloatTrain}, task, tasks::task_names());
  runtime.visit(v);
  data.visit(v);
  loader.visit(v);
  pillars.visit(v);
  augment.visit(v);
  v.section("model", [&] { model.visit_fields(v); });
  quant.visit(v);
  train.visit(v);
  finetune.visit(v);
  output.visit(v);
  task_options.visit(v);
}

namespace {

RunConfig validated_run_config(core::ConfigDocument document,
                               const std::vector<std::string>& overrides) {
  for (const auto& assignment : overrides) document.apply_override(assignment);
  RunConfig config;
  document.read_into(core::fields_of(config));
  datasets::validate(config.pillars);
  datasets::validate(config.augment);
  if (config.data.occupancy) datasets::validate_grid_preserving(config.augment);
  tasks::bev::validate(config.model, config.pillars);
  tasks::validate_task(config.task, task_inputs(config));
  config.quant.validate();
  validate(config.train);
  validate(config.finetune);
  // No model is chosen on the split that is reported.
  for (const auto& [section, settings] :
       {std::pair<const char*, const OptimizerConfig*>{"train", &config.train},
        std::pair<const char*, const OptimizerConfig*>{"finetune", &config.finetune}}) {
    PTQAT_CHECK(settings->select != "best" || (!config.data.select_split.empty() &&
                                               config.data.select_split != config.data.eval_split),
                ConfigError,
                "{}.select = \"best\": picks the checkpoint on data.select_split, which must name "
                "a held-out split other than data.eval_split ('{}', the reported one); got '{}'",
                section, config.data.eval_split, config.data.select_split);
  }
  return config;
}

}  // namespace

tasks::TaskInputs task_inputs(const RunConfig& config,
                              std::shared_ptr<const datasets::NuScenes> index) {
  return {config.model, config.pillars, config.data, config.task_options, std::move(index)};
}

std::unique_ptr<tasks::Task> make_task(const RunConfig& config,
                                       std::shared_ptr<const datasets::NuScenes> index) {
  return tasks::make_task(config.task, task_inputs(config, std::move(index)));
}

std::string results_path(const OutputConfig& output) {
  if (!output.results.empty()) return output.results;
  return (std::filesystem::path(output.dir) / "results.h5").string();
}

RunConfig with_ranks(RunConfig config, int ranks) {
  for (auto [section, field] : {std::pair<const char*, int64_t*>{"train", &config.train.ranks},
                                {"finetune", &config.finetune.ranks}}) {
    if (*field == 0) *field = ranks;
    PTQAT_CHECK(*field == ranks, ConfigError,
                "{}.ranks = {}, but this stage runs on {} ranks (mpirun -np, or a sweep's "
                "ranks_per_run); set it to {} or 0",
                section, *field, ranks, ranks);
  }
  return config;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  return validated_run_config(
      path.empty() ? core::ConfigDocument::empty() : core::ConfigDocument::from_file(path),
      overrides);
}

std::string resolved_toml(const RunConfig& config) {
  RunConfig copy = config;  // fields_of() visits through a mutable reference
  return core::to_toml(core::fields_of(copy));
}

RunConfig parse_run_config(const std::string& text, const std::string& source_name,
                           const std::vector<std::string>& overrides) {
  return validated_run_config(core::ConfigDocument::from_string(text, source_name), overrides);
}

}  // namespace ptqat::runner
