// ptqat train --config FILE [--set key=value ...]

#include <memory>
#include <string>
#include <vector>

#include "distributed/job_group.h"
#include "runner/commands/command.h"
#include "runner/float_training.h"

namespace ptqat::runner {

void add_train_command(CLI::App& app, CommandTable& table) {
  struct TrainCommand {
    std::string config;
    std::vector<std::string> overrides;
    bool force = false;
  };
  auto command = std::make_shared<TrainCommand>();
  CLI::App* train = app.add_subcommand(
      "train",
      "train the float baseline of a run config (resumes from its last checkpoint; a recorded "
      "model is reused)");
  train->add_option("config,--config", command->config, "TOML run config")->required();
  train->add_option("--set", command->overrides, "override a key (repeatable)");
  add_force_flag(*train, command->force);
  table.push_back(
      {train, [command](std::ostream& out) {
         run_float_training(
             load_run_config(command->config, with_force(command->overrides, command->force)),
             distributed::job_group(), out);
       }});
}

}  // namespace ptqat::runner
