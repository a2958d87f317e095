#include "sweeps/slurm_script.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace ptqat::sweeps {
namespace {

SlurmOptions tiny_job() {
  SlurmOptions options;
  options.sweep_file = std::string(PTQAT_SOURCE_DIR) + "/configs/sweeps/tiny.toml";
  options.ranks_per_node = 2;
  options.cpus_per_rank = 4;
  options.time = "10:00";
  return options;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SlurmScript, SrunGetsTheCpusPerTaskAndTheScriptTrapsTermAndUsr1) {
  const std::string script = slurm_script(tiny_job(), "/opt/ptqat", "/work");
  EXPECT_TRUE(has(script, "#SBATCH --cpus-per-task=4\n")) << script;
  // srun (Slurm >= 22.05) does not inherit --cpus-per-task: both the flag and the variable.
  EXPECT_TRUE(has(script, "export SRUN_CPUS_PER_TASK=4\n")) << script;
  EXPECT_TRUE(has(script,
                  "srun --mpi=pmix --kill-on-bad-exit=1 --cpus-per-task=4 /opt/ptqat "
                  "--preempt-signal USR1,TERM sweep "))
      << script;
  EXPECT_TRUE(has(script, "--set runtime.threads=4")) << script;
  EXPECT_TRUE(has(script, "#SBATCH --signal=B:USR1@300\n")) << script;
  EXPECT_TRUE(has(script, "trap forward_stop USR1 TERM\n")) << script;
  EXPECT_TRUE(has(script, "scontrol requeue")) << script;
}

TEST(SlurmScript, ClusterOptionsAndPassThroughArgumentsBecomeSbatchLines) {
  SlurmOptions options = tiny_job();
  options.partition = "gpu";
  options.account = "perception";
  options.qos = "high";
  options.mem = "64G";
  options.constraint = "a100&ib";
  options.gres = "gpu:a100:8";
  options.sbatch_args = {"--exclusive", "--mail-type=END"};
  const std::string script = slurm_script(options, "/opt/ptqat", "/work");
  for (const char* line :
       {"#SBATCH --partition=gpu\n", "#SBATCH --account=perception\n", "#SBATCH --qos=high\n",
        "#SBATCH --mem=64G\n", "#SBATCH --constraint=a100&ib\n", "#SBATCH --gres=gpu:a100:8\n",
        "#SBATCH --exclusive\n", "#SBATCH --mail-type=END\n"}) {
    EXPECT_TRUE(has(script, line)) << line << "\n" << script;
  }
  // Without them, nothing is asked for.
  const std::string plain = slurm_script(tiny_job(), "/opt/ptqat", "/work");
  EXPECT_FALSE(has(plain, "#SBATCH --account")) << plain;
  EXPECT_FALSE(has(plain, "#SBATCH --partition")) << plain;
}

TEST(SlurmScript, MalformedOptionsAreOneLineErrorsNamingTheOption) {
  const auto message = [](const SlurmOptions& options) {
    try {
      slurm_script(options, "/opt/ptqat", "/work");
    } catch (const ConfigError& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  SlurmOptions not_an_option = tiny_job();
  not_an_option.sbatch_args = {"exclusive"};
  EXPECT_TRUE(has(message(not_an_option), "--sbatch-arg 'exclusive': expected one sbatch option"))
      << message(not_an_option);
  SlurmOptions two_lines = tiny_job();
  two_lines.account = "a\n#SBATCH --nodes=100";
  EXPECT_TRUE(has(message(two_lines), "--account: expected one line")) << message(two_lines);
  SlurmOptions bad_time = tiny_job();
  bad_time.time = "ten minutes";
  EXPECT_TRUE(has(message(bad_time), "--time 'ten minutes'")) << message(bad_time);
}

}  // namespace
}  // namespace ptqat::sweeps
