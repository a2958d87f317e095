// ptqat slurm SWEEP.toml --nodes N --gpus-per-node G --time T [--partition P] [--submit]
// (docs/cluster.md): writes the sbatch script of sweeps/slurm_script.h and optionally submits it.

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/durable_file.h"
#include "core/error.h"
#include "runner/commands/command.h"
#include "sweeps/slurm_script.h"

namespace ptqat::runner {
namespace {

namespace fs = std::filesystem;

/// Writes the script (and, with submit, submits it with sbatch); reports to `out`.
void run_slurm(const sweeps::SlurmOptions& options, std::ostream& out) {
  const std::string ptqat = fs::read_symlink("/proc/self/exe").string();
  const std::string script = sweeps::slurm_script_path(options);
  const std::string text = sweeps::slurm_script(options, ptqat, fs::current_path().string());
  fs::create_directories(fs::path(script).parent_path());
  core::write_file_durably(script, text);
  fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  out << "wrote " << script << "\n";
  if (!options.submit) {
    out << "submit it with: sbatch " << sweeps::shell_quote(script) << "\n";
    return;
  }
  FILE* pipe = popen(("sbatch " + sweeps::shell_quote(script) + " 2>&1").c_str(), "r");
  PTQAT_CHECK(pipe != nullptr, IoError, "cannot run sbatch");
  std::string reply;
  std::array<char, 512> buffer{};
  while (const size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    reply.append(buffer.data(), n);
  const int status = pclose(pipe);
  while (!reply.empty() && reply.back() == '\n') reply.pop_back();
  PTQAT_CHECK(status == 0, IoError, "sbatch {} failed: {}", script, reply);
  out << reply << "\n";
}

}  // namespace

void add_slurm_command(CLI::App& app, CommandTable& table) {
  auto options = std::make_shared<sweeps::SlurmOptions>();
  CLI::App* slurm = app.add_subcommand(
      "slurm", "write (and with --submit, submit) the sbatch script that runs a sweep on Slurm");
  slurm->add_option("sweep,--config", options->sweep_file, "sweep TOML")->required();
  slurm->add_option("--nodes", options->nodes, "nodes")->capture_default_str();
  slurm->add_option("--gpus-per-node", options->gpus_per_node, "GPUs per node, a rank each")
      ->capture_default_str();
  slurm->add_option("--ranks-per-node", options->ranks_per_node,
                    "ranks per node (default: the GPUs, or 1)");
  slurm->add_option("--cpus-per-rank", options->cpus_per_rank,
                    "cores per rank: --cpus-per-task and runtime.threads");
  slurm->add_option("--time", options->time, "time limit (HH:MM:SS, D-HH:MM, ...)")->required();
  slurm->add_option("--partition", options->partition, "partition");
  slurm->add_option("--account", options->account, "account to charge");
  slurm->add_option("--qos", options->qos, "quality of service");
  slurm->add_option("--mem", options->mem, "memory per node (Slurm's --mem: 64G, ...)");
  slurm->add_option("--constraint", options->constraint, "node features (Slurm's --constraint)");
  slurm->add_option("--gres", options->gres, "generic resources (Slurm's --gres)");
  slurm->add_option("--sbatch-arg", options->sbatch_args,
                    "any further sbatch option, as one word: --sbatch-arg=--exclusive "
                    "(repeatable)");
  slurm->add_option("--launcher", options->launcher, "srun (PMIx) or mpirun")
      ->capture_default_str();
  slurm->add_option("--srun-mpi", options->srun_mpi, "srun --mpi plugin (srun --mpi=list)")
      ->capture_default_str();
  slurm
      ->add_option("--signal-lead", options->signal_lead_s,
                   "seconds before the time limit to checkpoint and requeue")
      ->capture_default_str();
  slurm->add_option("--script", options->script, "where to write (default slurm/<sweep>.sbatch)");
  slurm->add_option("--out", options->out, "the sweep's results file");
  slurm->add_option("--set", options->overrides, "override a key of every point (repeatable)");
  slurm->add_flag("--submit", options->submit, "submit the script with sbatch");
  table.push_back({slurm, [options](std::ostream& out) { run_slurm(*options, out); }});
}

}  // namespace ptqat::runner
