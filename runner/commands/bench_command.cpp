// ptqat bench loader [FILE] [--set ...] [--batches N]
// ptqat bench step [--model NAME] [--threads N] [--steps N] [--warmup N] [--selection S] [--json]

#include <memory>
#include <string>
#include <vector>

#include "bench/bev_bench_model.h"
#include "bench/loader_throughput.h"
#include "bench/step_bench.h"
#include "runner/commands/command.h"
#include "runner/run_config.h"

namespace ptqat::runner {
namespace {

void add_loader(CLI::App& group, CommandTable& table) {
  struct LoaderCommand {
    std::string config;
    std::vector<std::string> overrides;
    int64_t batches = 0;
  };
  auto command = std::make_shared<LoaderCommand>();
  CLI::App* loader = group.add_subcommand(
      "loader",
      "samples/s of the training loader (read, aggregate sweeps, augment, pillarize, "
      "collate)");
  loader->add_option("file,--config", command->config, "TOML run config");
  loader->add_option("--set", command->overrides, "override a key (repeatable)");
  loader->add_option("--batches", command->batches, "batches to load; 0 = one epoch")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  table.push_back({loader, [command](std::ostream& out) {
                     const RunConfig config = load_run_config(command->config, command->overrides);
                     bench::bench_loader(
                         {config.data, config.loader, config.pillars, config.augment,
                          config.runtime.threads, static_cast<uint64_t>(config.seed)},
                         command->batches, out);
                   }});
}

void add_step(CLI::App& group, CommandTable& table) {
  struct StepCommand {
    bench::StepBenchOptions options;
    std::string memory_variant;
  };
  auto command = std::make_shared<StepCommand>();
  bench::StepBenchOptions& options = command->options;
  CLI::App* step = group.add_subcommand(
      "step",
      "training-step time and peak memory of float, QAT (W4A8) and PTQAT (freeze 0.5) on a "
      "fixed model");
  step->add_option("--model", options.model, "bev (tiny-bev: tests)")
      ->capture_default_str()
      ->check(CLI::IsMember(bench::step_bench_model_names()));
  step->add_option("--threads", options.threads, "intra-op threads; 0 = every core")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  step->add_option("--steps", options.steps, "timed steps per variant (median reported)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  step->add_option("--warmup", options.warmup, "untimed rounds first")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  step->add_flag("--json", options.json, "print one JSON object");
  step->add_option("--selection", options.selection,
                   "PTQAT's frozen set: rule (the paper's, measured) or alternate (fixed)")
      ->capture_default_str()
      ->check(CLI::IsMember({"rule", "alternate"}));
  // The memory run of one variant in its own process (bench/step_bench.h).
  step->add_option("--memory-variant", command->memory_variant)
      ->check(CLI::IsMember({"float", "qat", "ptqat"}))
      ->group("");
  table.push_back({step, [command](std::ostream& out) {
                     if (command->memory_variant.empty()) {
                       bench::bench_step(command->options, out);
                     } else {
                       bench::bench_step_memory_run(command->options, command->memory_variant, out);
                     }
                   }});
}

}  // namespace

void add_bench_commands(CLI::App& app, CommandTable& table) {
  CLI::App* group =
      app.add_subcommand("bench", "measure pipeline throughput on your config and data")
          ->require_subcommand(1);
  add_loader(*group, table);
  add_step(*group, table);
}

}  // namespace ptqat::runner
