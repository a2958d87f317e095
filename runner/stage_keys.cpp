#include "runner/stage_keys.h"

#include <fmt/format.h>

#include <filesystem>
#include <vector>

namespace ptqat::runner {

std::vector<IgnoredField> ignored_fields(const quant::QuantConfig& quant) {
  // All but PTQAT ignore the selection; all but PTQAT with rule random ignore select_seed.
  // Decided on the config as given: resetting the rule would change whether select_seed counts.
  const bool ptqat = quant.method == quant::QuantMethod::kPtqat;
  const quant::QuantConfig defaults;
  std::vector<IgnoredField> fields;
  if (!ptqat) {
    fields.push_back({"quant.freeze_ratio", [defaults](quant::QuantConfig& q) {
                        q.freeze_ratio = defaults.freeze_ratio;
                      }});
    fields.push_back({"quant.rule", [defaults](quant::QuantConfig& q) { q.rule = defaults.rule; }});
    fields.push_back({"quant.freeze_by",
                      [defaults](quant::QuantConfig& q) { q.freeze_by = defaults.freeze_by; }});
  }
  if (!ptqat || quant.rule != quant::SelectionRule::kRandom) {
    fields.push_back({"quant.select_seed", [](quant::QuantConfig& q) { q.select_seed = -1; }});
  }
  return fields;
}

StageNames stage_names(const RunConfig& config) {
  const quant::QuantConfig& quant = config.quant;
  std::string model = fmt::format("{}-{}", config.task,
                                  config.model.encoder == "second" ? "cnn" : config.model.encoder);
  if (config.seed != 0) model += fmt::format("/float-seed{}", config.seed);
  StageNames names;
  names.float_train = model + "/float";
  const std::string bits =
      fmt::format("{}/w{}a{}", model, quant.weight.bits, quant.activation.bits);
  names.calibrate = bits + "/ptq";
  if (quant.method == quant::QuantMethod::kPtq) return names;
  std::string method = quant::method_name(quant.method);
  if (quant.method == quant::QuantMethod::kPtqat) {
    method += fmt::format("-{:.2f}-{}", quant.freeze_ratio, quant::rule_name(quant.rule));
    const quant::QuantConfig defaults;
    if (quant.discrepancy_metric != defaults.discrepancy_metric) {
      method += std::string("-") + quant::discrepancy_metric_name(quant.discrepancy_metric);
    }
    if (quant.discrepancy_mode != defaults.discrepancy_mode) {
      method += std::string("-") + quant::discrepancy_mode_name(quant.discrepancy_mode);
    }
  }
  names.fine_tune = fmt::format("{}/{}/seed{}", bits, method, quant.seed);
  return names;
}

StageKeys stage_keys(const RunConfig& config) {
  // Fields the method ignores take fixed values, so that they cannot split equal runs.
  RunConfig canonical = config;
  for (const IgnoredField& field : ignored_fields(config.quant)) field.reset(canonical.quant);
  const core::ConfigFields fields = core::fields_of(canonical);
  StageKeys keys;
  keys.float_train = core::stage_key(fields, core::Stage::kFloatTrain, "");
  keys.calibrate = core::stage_key(fields, core::Stage::kCalibrate, keys.float_train);
  if (canonical.quant.method != quant::QuantMethod::kPtq) {
    keys.fine_tune = core::stage_key(fields, core::Stage::kFineTune, keys.calibrate);
  }
  return keys;
}

StagePaths stage_paths(const RunConfig& config, const std::string& key) {
  const std::filesystem::path dir(config.output.dir);
  StagePaths paths;
  paths.key = key;
  paths.checkpoint = (dir / "checkpoints" / (key + ".pt")).string();
  paths.last_checkpoint = (dir / "checkpoints" / (key + ".last.pt")).string();
  paths.records = dir.string();
  return paths;
}

std::map<std::string, std::string> stage_metadata(const RunConfig& config, const std::string& key,
                                                  core::Stage stage) {
  return {{metadata::kStageKey, key},
          {metadata::kStage, core::stage_name(stage)},
          {metadata::kConfig, resolved_toml(config)}};
}

}  // namespace ptqat::runner
