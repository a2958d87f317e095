#include "core/runtime_config.h"

#include <sched.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace ptqat::core {

void RuntimeConfig::visit(ConfigVisitor& v) {
  v.section("runtime", [&] {
    v.choice({"device", "where tensors live: auto (GPU when visible), cpu or cuda", Stage::kNone},
             device,
             {{DeviceSetting::kAuto, "auto"},
              {DeviceSetting::kCpu, "cpu"},
              {DeviceSetting::kCuda, "cuda"}});
    v.field(
        {"threads", "intra-op threads per rank; 0 = its bound CPUs, or the node's / ranks on it",
         Stage::kNone},
        threads, IntRange{0, 1024});
    v.choice({"log_level", "spdlog level", Stage::kNone}, log_level,
             {"trace", "debug", "info", "warn", "error", "off"});
    v.field({"cudnn_benchmark", "let cuDNN pick the fastest convolution algorithms (CUDA)",
             Stage::kNone},
            cudnn_benchmark);
    v.field({"force", "rerun recorded stages, keeping their records as superseded versions",
             Stage::kNone},
            force);
  });
}

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int apply_thread_setting(int64_t threads, int local_ranks) {
  const int usable = usable_cpus();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int count = static_cast<int>(threads);
  if (count == 0) {
    // A launcher that bound this rank (srun's CPU binding) gave it its own cores; one that did
    // not (mpirun --bind-to none) left the node's cores to share among its ranks.
    count = usable < cores ? usable : std::max(1, usable / std::max(1, local_ranks));
  }
  static int reported = -1;  // once per process and setting, not once per stage
  if (count != reported) {
    reported = count;
    if (count > usable) {
      spdlog::warn(
          "runtime.threads = {} but this rank may run on {} CPU(s) (its affinity mask): its "
          "threads share cores. Under Slurm, srun needs --cpus-per-task (ptqat slurm "
          "--cpus-per-rank writes it)",
          count, usable);
    } else {
      spdlog::info("{} intra-op thread(s) on {} usable CPU(s)", count, usable);
    }
  }
  torch::set_num_threads(count);
  return count;
}

}  // namespace ptqat::core
