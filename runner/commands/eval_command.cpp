// ptqat eval [--checkpoint CKPT] [--config FILE] [--set ...] [--export-json F] [--export-dir D]
//            [--metrics-json F]

#include <memory>

#include "runner/commands/command.h"
#include "runner/evaluation.h"

namespace ptqat::runner {

void add_eval_command(CLI::App& app, CommandTable& table) {
  auto options = std::make_shared<EvaluationOptions>();
  auto force = std::make_shared<bool>(false);
  CLI::App* eval = app.add_subcommand(
      "eval", "evaluate a checkpoint (default: the config's float model) with the official metric");
  eval->add_option("--checkpoint", options->checkpoint,
                   "a stage's .pt; its stored config is used unless --config is given");
  eval->add_option("config,--config", options->config_file, "TOML run config");
  eval->add_option("--set", options->overrides, "override a key (repeatable)");
  add_force_flag(*eval, *force);
  eval->add_option("--export-json", options->export_json,
                   "write the predictions as a nuScenes submission JSON");
  eval->add_option("--export-dir", options->export_dir,
                   "write segmentation / occupancy predictions in the challenge folder layout");
  eval->add_option("--metrics-json", options->metrics_json, "write the metrics as JSON");
  table.push_back({eval, [options, force](std::ostream& out) {
                     EvaluationOptions forced = *options;
                     forced.overrides = with_force(options->overrides, *force);
                     run_evaluation(forced, out);
                   }});
}

}  // namespace ptqat::runner
