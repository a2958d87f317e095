#include "core/runtime_config.h"

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
    v.field({"threads", "intra-op threads per rank; 0 = cores / ranks on the node", Stage::kNone},
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

int apply_thread_setting(int64_t threads, int local_ranks) {
  int count = static_cast<int>(threads);
  if (count == 0) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    count = std::max(1, cores / std::max(1, local_ranks));
  }
  torch::set_num_threads(count);
  return count;
}

}  // namespace ptqat::core
