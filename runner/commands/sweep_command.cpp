// ptqat sweep SWEEP.toml [--out RESULTS.h5] [--set ...] [--only NAME ...] [--dry-run]

#include <memory>

#include "runner/commands/command.h"
#include "runner/sweep_run.h"

namespace ptqat::runner {

void add_sweep_command(CLI::App& app, CommandTable& table) {
  auto options = std::make_shared<SweepOptions>();
  CLI::App* sweep = app.add_subcommand(
      "sweep",
      "run a sweep's grid of train / calibrate / fine-tune stages over groups of ranks; "
      "stages already recorded are skipped");
  sweep->add_option("sweep,--config", options->sweep_file, "sweep TOML (configs/sweeps/)")
      ->required();
  sweep->add_option("--out", options->out, "results file (default <output.dir>/results.h5)");
  sweep->add_option("--set", options->overrides, "override a key of every point (repeatable)");
  sweep->add_option("--only", options->only,
                    "run only the points whose fine-tune (or calibration) name starts with this "
                    "(detection-cnn, segmentation-cnn/w4a8, .../seed0; repeatable)");
  sweep->add_flag("--dry-run", options->dry_run, "print the stage plan and stop");
  table.push_back({sweep, [options](std::ostream& out) { run_sweep(*options, out); }});
}

}  // namespace ptqat::runner
