#pragma once
// `ptqat slurm SWEEP.toml --nodes N --gpus-per-node G --time T [--partition P] [--submit]`
// (docs/cluster.md): writes the sbatch script that runs the sweep on an allocation, from the
// template scripts/slurm/sweep.sbatch.in, and optionally submits it.

#include <ostream>
#include <string>
#include <vector>

namespace ptqat::sweeps {

struct SlurmOptions {
  std::string sweep_file;
  int nodes = 1;
  int gpus_per_node = 0;   ///< one rank per GPU; 0: a CPU job
  int ranks_per_node = 0;  ///< 0: gpus_per_node, or 1 on CPU
  int cpus_per_rank = 0;   ///< --cpus-per-task and runtime.threads; 0: Slurm's default
  std::string time;        ///< Slurm's --time: MM, MM:SS, HH:MM:SS, D-HH[:MM[:SS]]
  std::string partition;   ///< empty: the cluster's default
  std::string account, qos, mem, constraint, gres;  ///< #SBATCH options; empty: not set
  std::vector<std::string> sbatch_args;  ///< further #SBATCH options, each "--name[=value]"
  std::string launcher = "srun";  ///< "srun" (PMIx) or "mpirun" (Open MPI reads the allocation)
  std::string srun_mpi = "pmix";  ///< srun --mpi=...
  int signal_lead_s = 300;        ///< USR1 this long before the time limit
  std::string script;             ///< where to write; empty: slurm/<sweep name>.sbatch
  std::string out;                ///< the sweep's --out
  std::vector<std::string> overrides;  ///< the sweep's --set
  bool submit = false;                 ///< run sbatch on the script
};

/// The batch script for `options`, running `ptqat` (an absolute path) in `workdir`.
/// ConfigError naming the option for a malformed time, a bad launcher, an option value with a
/// line break, an --sbatch-arg that is not an option, or ranks_per_run of the sweep not dividing
/// the job's ranks.
std::string slurm_script(const SlurmOptions& options, const std::string& ptqat,
                         const std::string& workdir);

/// Where the script goes: options.script, or slurm/<sweep name>.sbatch; absolute.
std::string slurm_script_path(const SlurmOptions& options);

/// `text` as one shell word.
std::string shell_quote(const std::string& text);

}  // namespace ptqat::sweeps
