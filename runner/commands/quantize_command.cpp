// ptqat quantize --config FILE --method ptq|qat|ptqat [shorthands] [--set key=value ...]

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "distributed/job_group.h"
#include "runner/commands/command.h"
#include "runner/quantization.h"

namespace ptqat::runner {

void add_quantize_command(CLI::App& app, CommandTable& table) {
  struct QuantizeCommand {
    std::string config;
    std::vector<std::string> overrides;
    std::map<std::string, std::string> shorthand_values;  ///< by quant.* key
    bool force = false;
  };
  auto command = std::make_shared<QuantizeCommand>();
  CLI::App* quantize = app.add_subcommand(
      "quantize",
      "PTQ, QAT or PTQAT of the config's float model (run `ptqat train` first); stages already "
      "recorded under output.dir are reused");
  quantize->add_option("config,--config", command->config, "TOML run config")->required();
  quantize->add_option("--set", command->overrides, "override a key (repeatable)");
  add_force_flag(*quantize, command->force);
  // Shorthands for quant.* keys, applied after --set.
  const std::vector<std::pair<const char*, const char*>> shorthands = {
      {"--method", "quant.method"},
      {"--weight-bits", "quant.weight.bits"},
      {"--activation-bits", "quant.activation.bits"},
      {"--freeze-ratio", "quant.freeze_ratio"},
      {"--rule", "quant.rule"},
      {"--discrepancy-mode", "quant.discrepancy_mode"},
      {"--discrepancy-metric", "quant.discrepancy_metric"}};
  for (const auto& [flag, key] : shorthands) {
    quantize->add_option(flag, command->shorthand_values[key], std::string("sets ") + key);
  }
  table.push_back({quantize, [command](std::ostream& out) {
                     std::vector<std::string> overrides =
                         with_force(command->overrides, command->force);
                     for (const auto& [key, value] : command->shorthand_values) {
                       if (!value.empty()) overrides.push_back(key + "=" + value);
                     }
                     run_quantization(load_run_config(command->config, overrides),
                                      distributed::job_group(), out);
                   }});
}

}  // namespace ptqat::runner
