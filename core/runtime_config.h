#pragma once
// Process-level knobs: where tensors live, how many threads, how much logging. None of them
// changes a result, so none enters a stage key.

#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/device.h"

namespace ptqat::core {

struct RuntimeConfig {
  DeviceSetting device = DeviceSetting::kAuto;
  /// Intra-op threads per rank; 0 = the number of cores divided by the ranks on this node.
  int64_t threads = 0;
  std::string log_level = "info";
  /// cuDNN picks the fastest convolution algorithms per input shape (CUDA only).
  bool cudnn_benchmark = false;
  /// Run stages that are recorded already; each earlier record is kept as a superseded version
  /// (the CLI's --force). Without it a recorded stage is reused, never recorded again.
  bool force = false;

  void visit(ConfigVisitor& v);
};

/// CPUs this process may run on (its affinity mask, which srun's CPU binding narrows).
int usable_cpus();

/// Sets LibTorch's intra-op threads (its default here is 1) from `threads`, or when `threads` is
/// 0 from the usable CPUs (bound by the launcher, or the node's shared by `local_ranks`). Logs
/// the count once, and warns on every rank when it exceeds the usable CPUs. Returns the count.
int apply_thread_setting(int64_t threads, int local_ranks = 1);

}  // namespace ptqat::core
