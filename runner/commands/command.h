#pragma once
// The subcommands of `ptqat` as a table (runner/cli.cpp): each file in this folder adds one
// subcommand (or one family, e.g. `data info|synth|inspect|gtdb`) to the CLI11 app, binding its
// options to state that its action owns, and registers what runs when it is chosen.

#include <CLI/CLI.hpp>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace ptqat::runner {

/// A leaf subcommand (`train`, `config show`, ...) and what runs when the command line chose it.
/// The action throws ptqat::Error for bad input; the CLI prints it as one line.
struct Command {
  CLI::App* app = nullptr;
  std::function<void(std::ostream& out)> run;
};
using CommandTable = std::vector<Command>;

/// Adds `--force` to a command that records stages: rerun what is recorded already, keeping each
/// earlier record as a superseded version (runtime.force; see with_force()).
inline void add_force_flag(CLI::App& command, bool& force) {
  command.add_flag("--force", force,
                   "rerun stages recorded already; their records are kept as superseded versions");
}

/// `overrides`, plus "runtime.force=true" when `force`.
inline std::vector<std::string> with_force(std::vector<std::string> overrides, bool force) {
  if (force) overrides.emplace_back("runtime.force=true");
  return overrides;
}

void add_config_commands(CLI::App& app, CommandTable& table);
void add_data_commands(CLI::App& app, CommandTable& table);
void add_bench_commands(CLI::App& app, CommandTable& table);
void add_train_command(CLI::App& app, CommandTable& table);
void add_quantize_command(CLI::App& app, CommandTable& table);
void add_eval_command(CLI::App& app, CommandTable& table);
void add_import_command(CLI::App& app, CommandTable& table);
void add_export_command(CLI::App& app, CommandTable& table);
void add_sweep_command(CLI::App& app, CommandTable& table);
void add_slurm_command(CLI::App& app, CommandTable& table);
void add_report_command(CLI::App& app, CommandTable& table);
void add_results_commands(CLI::App& app, CommandTable& table);

}  // namespace ptqat::runner
