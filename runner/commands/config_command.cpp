// ptqat config show [FILE] [--set key=value ...] | ptqat config keys

#include <memory>
#include <string>
#include <vector>

#include "core/config_toml.h"
#include "runner/commands/command.h"
#include "runner/run_config.h"

namespace ptqat::runner {

void add_config_commands(CLI::App& app, CommandTable& table) {
  CLI::App* config = app.add_subcommand("config", "inspect run configs")->require_subcommand(1);

  struct ShowOptions {
    std::string file;
    std::vector<std::string> overrides;
  };
  auto show_options = std::make_shared<ShowOptions>();
  CLI::App* show = config->add_subcommand("show", "print the fully resolved config as TOML");
  show->add_option("file,--config", show_options->file, "TOML config (defaults when omitted)");
  show->add_option("--set", show_options->overrides,
                   "override a key: --set data.nsweeps=5 (repeatable)");
  table.push_back({show, [show_options](std::ostream& out) {
                     out << resolved_toml(
                         load_run_config(show_options->file, show_options->overrides));
                   }});

  CLI::App* keys = config->add_subcommand("keys",
                                          "list every config key: type, range, default, "
                                          "stage and what it does");
  table.push_back({keys, [](std::ostream& out) {
                     RunConfig defaults;
                     out << core::describe_fields(core::fields_of(defaults));
                   }});
}

}  // namespace ptqat::runner
