#include "runner/cli.h"

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "core/logging.h"
#include "core/preemption.h"
#include "core/version.h"
#include "distributed/job_group.h"
#include "runner/cli_suggestions.h"
#include "runner/commands/command.h"
#include "runner/exit_codes.h"

namespace ptqat::runner {
namespace {

/// The subcommands, in the order `ptqat --help` lists them (one file each, runner/commands/).
const std::vector<void (*)(CLI::App&, CommandTable&)> kCommands = {
    add_config_commands,  add_data_commands, add_bench_commands, add_train_command,
    add_quantize_command, add_eval_command,  add_import_command, add_export_command,
    add_sweep_command,    add_slurm_command, add_report_command, add_results_commands};

std::string version_text() {
  return fmt::format("ptqat {} (git {}), LibTorch {}", ptqat::version(), ptqat::git_revision(),
                     TORCH_VERSION);
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "ptqat: hybrid post-training / quantization-aware training of 3D perception "
      "networks on nuScenes"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text());
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  std::string preempt_signal = "USR1";
  app.add_option("--preempt-signal", preempt_signal,
                 "signals that stop training at a checkpoint, exit code 75 (USR1, USR2, TERM, "
                 "INT, HUP, comma-separated, or none)")
      ->capture_default_str();
  CommandTable table;
  for (const auto add : kCommands) add(app, table);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help, out, err);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help, out, err);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version, out, err);
  } catch (const CLI::ParseError& error) {
    err << "error: " << error.what() << suggestion_for(app, argc, argv) << " (see --help)\n";
    // CLI11's own codes (105 for a failed check, 106, 109, ...) are not the documented set.
    return exit_code::kUsage;
  }

  try {
    core::init_logging(log_level, distributed::job_rank(), distributed::job_size());
    core::install_preemption_signals(preempt_signal);
    for (const Command& command : table) {
      if (command.app->parsed()) command.run(out);
    }
  } catch (const core::Preempted& stop) {
    err << "preempted: " << stop.what() << "; run the same command again to resume\n";
    return exit_code::kPreempted;
  } catch (const Error& error) {
    err << "error: " << error.what() << "\n";
    return exit_code::kError;
  }
  return exit_code::kDone;
}

}  // namespace ptqat::runner
