#pragma once
// Data-parallel training over any core::Collective: the start-of-training broadcast of the
// model, and gradient averaging in flat buckets. This is what PyTorch's DistributedDataParallel
// reducer does; LibTorch 1.13's C++ API has no DDP and its c10d differs from 2.x's (and has no
// MPI backend in Debian's build), so it is written here, without overlapping the reduction with
// the backward pass.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/collective.h"

namespace ptqat::distributed {

/// Copies rank `root`'s parameters and buffers into every rank's model (same structure on every
/// rank). Collective.
void broadcast_module(torch::nn::Module& model, core::Collective& group, int root = 0);

/// Averages the gradients of a fixed list of parameters over a group. Parameters are packed in
/// list order into buckets of one dtype and device holding at most `bucket_bytes` (a larger
/// parameter gets a bucket of its own); each bucket is one all-reduce, divided by the group
/// size after it completes, so every rank ends with bit-identical gradients.
class GradientBuckets {
 public:
  /// Default bucket size: DDP's 25 MiB.
  static constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

  GradientBuckets(std::vector<torch::Tensor> parameters, core::Collective& group,
                  int64_t bucket_bytes = kDefaultBucketBytes);

  /// Replaces every parameter's gradient by its average over the group. A parameter without a
  /// gradient on this rank (unused in its batch) contributes zeros and receives the average; one
  /// without a gradient on every rank keeps none.
  /// Collective: every rank calls it once per step.
  void average_gradients();

  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Bucket {
    std::vector<size_t> members;  ///< indices into parameters_
    torch::Tensor flat;           ///< reused every step
  };

  std::vector<torch::Tensor> parameters_;
  core::Collective& group_;
  std::vector<Bucket> buckets_;
};

}  // namespace ptqat::distributed
