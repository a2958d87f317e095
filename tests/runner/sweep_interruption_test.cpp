// A sweep killed with SIGKILL, or preempted with SIGUSR1, at spread-out moments under mpirun:
// nothing recorded is lost, the results file always opens, and rerunning the same command
// completes the sweep with the metrics of an uninterrupted run (deterministic single-thread CPU).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "core/preemption.h"
#include "results/results_store.h"
#include "tests/runner/cli_run.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// A micro sweep: one float model, one calibration, QAT and PTQAT: four short stages that train
/// several epochs each, so that a signal usually lands mid-stage.
const char* kMicroSweep = R"(ranks_per_run = 1
[set]
"train.epochs" = 6
"train.eval_every_epochs" = 3
"finetune.epochs" = 3
"train.deterministic" = true
"finetune.deterministic" = true
"runtime.threads" = 1
[grid]
"quant.method" = ["qat", "ptqat"]
)";

/// `mpirun -np 2 ptqat sweep` started in its own process group, so the whole job can be
/// signalled at once.
class Job {
 public:
  explicit Job(const std::string& command) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(pid_, pid_);  // also here: no race with the signal below
  }
  /// SIGKILL to every process of the job (mpirun and the ranks it started).
  void kill_all() { ::kill(-pid_, SIGKILL); }
  /// `signal` to mpirun alone, which forwards it to the ranks.
  void signal_launcher(int signal) { ::kill(pid_, signal); }
  /// The exit code, or -signal when killed.
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

class SweepInterruption : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<ptqat::testing::TempDir>();
    ASSERT_EQ(testing::ptqat("data synth --preset tiny --out " + dir_->file("data")).exit_code, 0);
    ptqat::testing::write_text(dir_->path() / "micro.toml",
                               "base = \"" + std::string(PTQAT_SOURCE_DIR) +
                                   "/configs/detection/tiny.toml\"\n" + kMicroSweep);
    const Clock::time_point start = Clock::now();
    const testing::CliRun reference = testing::run_command(command("reference"));
    ASSERT_EQ(reference.exit_code, 0) << reference.output;
    reference_seconds_ = std::chrono::duration<double>(Clock::now() - start).count();
    reference_ = metrics(dir_->file("reference/results.h5"));
    ASSERT_EQ(reference_.size(), 4u);
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string command(const std::string& run) {
    return std::string(PTQAT_MPIEXEC) + " -np 2 " + PTQAT_EXECUTABLE + " sweep " +
           dir_->file("micro.toml") + " --set data.dataroot=" + dir_->file("data") +
           " --set output.dir=" + dir_->file(run);
  }
  static std::map<std::string, std::map<std::string, double>> metrics(const std::string& file) {
    std::map<std::string, std::map<std::string, double>> result;
    for (const results::RunRecord& run : results::read_results(file)) result[run.key] = run.metrics;
    return result;
  }
  /// The keys of `run`'s results file; the file must open whenever it exists.
  static std::set<std::string> recorded(const std::string& run) {
    std::set<std::string> keys;
    const std::string file = dir_->file(run + "/results.h5");
    if (!fs::exists(file)) return keys;
    for (const auto& [key, values] : metrics(file)) keys.insert(key);
    return keys;
  }
  static void expect_reference_metrics(const std::string& run) {
    const auto actual = metrics(dir_->file(run + "/results.h5"));
    ASSERT_EQ(actual.size(), reference_.size());
    for (const auto& [key, values] : reference_) {
      ASSERT_EQ(actual.count(key), 1u) << key;
      for (const auto& [name, value] : values) {
        EXPECT_NEAR(actual.at(key).at(name), value, 1e-6) << key << " " << name;
      }
    }
  }

  static std::unique_ptr<ptqat::testing::TempDir> dir_;
  static double reference_seconds_;
  static std::map<std::string, std::map<std::string, double>> reference_;
};

std::unique_ptr<ptqat::testing::TempDir> SweepInterruption::dir_;
double SweepInterruption::reference_seconds_ = 0;
std::map<std::string, std::map<std::string, double>> SweepInterruption::reference_;

TEST_F(SweepInterruption, KillNineAtSpreadOutMomentsLosesNothingAndResumesToTheSameMetrics) {
  // Each attempt resumes the last one's work, so the kills land ever later in the sweep.
  bool stopped_early = false;
  for (const double fraction : {0.2, 0.35, 0.5, 0.65}) {
    const std::set<std::string> before = recorded("crash");
    Job job(command("crash"));
    std::this_thread::sleep_for(std::chrono::duration<double>(fraction * reference_seconds_));
    job.kill_all();
    job.wait();
    const std::set<std::string> after = recorded("crash");  // opens, or is not there yet
    for (const std::string& key : before) EXPECT_EQ(after.count(key), 1u) << "lost " << key;
    std::cerr << "killed at " << fraction << " of the reference time: " << after.size()
              << " of 4 stages recorded\n";
    stopped_early = stopped_early || after.size() < 4;
  }
  EXPECT_TRUE(stopped_early) << "every kill came after the sweep had finished";
  const testing::CliRun resumed = testing::run_command(command("crash"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  expect_reference_metrics("crash");
}

TEST_F(SweepInterruption, PreemptionSignalCheckpointsExitsWith75AndTheRerunResumes) {
  Job job(command("preempt"));
  // Wait until the float stage has trained an epoch (its resume file exists), then preempt.
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    bool training = false;
    if (fs::exists(dir_->file("preempt/checkpoints"))) {
      for (const auto& entry : fs::directory_iterator(dir_->file("preempt/checkpoints"))) {
        training = training || entry.path().string().find(".last.pt") != std::string::npos;
      }
    }
    if (training) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  job.signal_launcher(SIGUSR1);
  EXPECT_EQ(job.wait(), core::kPreemptedExitCode);
  EXPECT_LT(recorded("preempt").size(), 4u);  // it stopped before the end

  const testing::CliRun resumed = testing::run_command(command("preempt"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  expect_reference_metrics("preempt");
  // The float stage went on from the step where it stopped, within its epoch.
  std::string float_log;
  for (const auto& entry : fs::directory_iterator(dir_->file("preempt/logs"))) {
    std::ifstream file(entry.path());
    const std::string text((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    if (text.find("train: resuming") != std::string::npos) float_log = text;
  }
  ASSERT_FALSE(float_log.empty());
  EXPECT_EQ(float_log.find(" step 0\n"), std::string::npos) << float_log;

  // The record covers both attempts: the whole loss history, step 1 to the last, equal to the
  // uninterrupted run's, with the attempts counted.
  std::map<std::string, results::RunRecord> reference, preempted;
  for (const auto& run : results::read_results(dir_->file("reference/results.h5"))) {
    reference[run.stage + run.method] = run;
  }
  for (const auto& run : results::read_results(dir_->file("preempt/results.h5"))) {
    preempted[run.stage + run.method] = run;
  }
  const results::RunRecord& float_run = preempted.at("float_trainfloat");
  const results::MetricHistory& loss = float_run.history.at("loss");
  ASSERT_FALSE(loss.steps.empty());
  for (size_t i = 0; i < loss.steps.size(); ++i) {
    ASSERT_EQ(loss.steps[i], static_cast<int64_t>(i) + 1) << "history from an attempt is missing";
  }
  EXPECT_EQ(loss.steps, reference.at("float_trainfloat").history.at("loss").steps);
  EXPECT_EQ(float_run.attempts, 2);
  EXPECT_EQ(reference.at("float_trainfloat").attempts, 1);
}

}  // namespace
}  // namespace ptqat::runner
