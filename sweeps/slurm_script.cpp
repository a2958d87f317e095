#include "sweeps/slurm_script.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "core/durable_file.h"
#include "core/error.h"
#include "sweeps/slurm_template.h"
#include "sweeps/sweep_spec.h"

namespace ptqat::sweeps {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::string shell_quote(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-./=:,+@%") == std::string::npos) {
    return text;
  }
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

namespace {

void replace_all(std::string& text, const std::string& placeholder, const std::string& value) {
  for (size_t at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
}

/// The #SBATCH lines of the optional settings: named ones, then the pass-through ones.
std::string option_lines(const SlurmOptions& options) {
  std::vector<std::string> lines;
  const std::pair<const char*, const std::string*> named[] = {{"partition", &options.partition},
                                                              {"account", &options.account},
                                                              {"qos", &options.qos},
                                                              {"mem", &options.mem},
                                                              {"constraint", &options.constraint},
                                                              {"gres", &options.gres}};
  for (const auto& [name, value] : named) {
    PTQAT_CHECK(value->find_first_of("\r\n") == std::string::npos, ConfigError,
                "--{}: expected one line, got a line break", name);
    if (!value->empty()) lines.push_back(fmt::format("#SBATCH --{}={}", name, *value));
  }
  for (const std::string& argument : options.sbatch_args) {
    PTQAT_CHECK(argument.rfind("--", 0) == 0 && argument.size() > 2 &&
                    argument.find_first_of("\r\n") == std::string::npos,
                ConfigError, "--sbatch-arg '{}': expected one sbatch option, such as --exclusive",
                argument);
    lines.push_back("#SBATCH " + argument);
  }
  if (lines.empty()) return "# (partition, account, ...: the cluster's defaults)";
  return fmt::format("{}", fmt::join(lines, "\n"));
}

}  // namespace

std::string slurm_script_path(const SlurmOptions& options) {
  return fs::absolute(options.script.empty()
                          ? fs::path("slurm") /
                                (fs::path(options.sweep_file).stem().string() + ".sbatch")
                          : fs::path(options.script))
      .string();
}

std::string slurm_script(const SlurmOptions& options, const std::string& ptqat,
                         const std::string& workdir) {
  // Slurm's --time forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.
  static const std::regex time_format(R"(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2})");
  PTQAT_CHECK(std::regex_match(options.time, time_format), ConfigError,
              "--time '{}': expected minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]]", options.time);
  PTQAT_CHECK(options.launcher == "srun" || options.launcher == "mpirun", ConfigError,
              "--launcher '{}': expected srun or mpirun", options.launcher);
  PTQAT_CHECK(options.nodes >= 1 && options.gpus_per_node >= 0 && options.ranks_per_node >= 0 &&
                  options.cpus_per_rank >= 0,
              ConfigError, "--nodes must be >= 1 and the per-node counts >= 0");
  const int ranks_per_node = options.ranks_per_node > 0  ? options.ranks_per_node
                             : options.gpus_per_node > 0 ? options.gpus_per_node
                                                         : 1;
  const int ranks = options.nodes * ranks_per_node;
  const sweeps::SweepSpec spec = sweeps::load_sweep_spec(options.sweep_file);
  PTQAT_CHECK(ranks % spec.ranks_per_run == 0, ConfigError,
              "{}: ranks_per_run = {} does not divide the job's {} ranks ({} nodes x {} ranks)",
              options.sweep_file, spec.ranks_per_run, ranks, options.nodes, ranks_per_node);

  const fs::path script = slurm_script_path(options);
  std::string args;
  if (!options.out.empty()) args += " --out " + shell_quote(fs::absolute(options.out).string());
  for (const std::string& assignment : options.overrides)
    args += " --set " + shell_quote(assignment);
  if (options.cpus_per_rank > 0)
    args += fmt::format(" --set runtime.threads={}", options.cpus_per_rank);

  std::string text = kSweepBatchTemplate;
  replace_all(text, "{{SCRIPT}}", shell_quote(script.string()));
  replace_all(text, "{{JOB_NAME}}", "ptqat-" + fs::path(options.sweep_file).stem().string());
  replace_all(text, "{{NODES}}", std::to_string(options.nodes));
  replace_all(text, "{{TASKS_PER_NODE}}", std::to_string(ranks_per_node));
  replace_all(text, "{{CPUS_LINE}}",
              options.cpus_per_rank > 0
                  ? fmt::format("#SBATCH --cpus-per-task={}", options.cpus_per_rank)
                  : "# (cpus per rank: the cluster's default; ptqat --cpus-per-rank sets it)");
  replace_all(text, "{{GPUS_LINE}}",
              options.gpus_per_node > 0
                  ? fmt::format("#SBATCH --gpus-per-node={}", options.gpus_per_node)
                  : "# (no GPUs: a CPU job)");
  replace_all(text, "{{TIME}}", options.time);
  replace_all(text, "{{OPTION_LINES}}", option_lines(options));
  replace_all(text, "{{SRUN_CPUS_LINE}}",
              options.cpus_per_rank > 0
                  ? fmt::format("export SRUN_CPUS_PER_TASK={}", options.cpus_per_rank)
                  : "# (no --cpus-per-rank: Slurm's default)");
  replace_all(text, "{{LOG_DIR}}", script.parent_path().string());
  replace_all(text, "{{SIGNAL_LEAD}}", std::to_string(options.signal_lead_s));
  replace_all(text, "{{WORKDIR}}", shell_quote(workdir));
  replace_all(text, "{{THREADS}}", std::to_string(std::max(options.cpus_per_rank, 1)));
  replace_all(text, "{{LAUNCH}}",
              options.launcher == "srun"
                  ? "srun --mpi=" + options.srun_mpi + " --kill-on-bad-exit=1" +
                        (options.cpus_per_rank > 0
                             ? fmt::format(" --cpus-per-task={}", options.cpus_per_rank)
                             : std::string())
                  : std::string("mpirun --bind-to none"));
  replace_all(text, "{{PTQAT}}", shell_quote(ptqat));
  replace_all(text, "{{SWEEP}}", shell_quote(fs::absolute(options.sweep_file).string()));
  replace_all(text, "{{ARGS}}", args);
  return text;
}

}  // namespace ptqat::sweeps
