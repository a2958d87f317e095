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

/// Sums (or averages) the gradients of a fixed list of parameters over a group. Parameters are
/// packed in list order into buckets of one dtype and device holding at most `bucket_bytes` (a
/// larger parameter gets a bucket of its own); each bucket is one all-reduce, so every rank ends
/// with bit-identical gradients.
///
/// After a reduction each gradient is an alias of its slice of the bucket (not an autograd view,
/// so that an optimizer's zero_grad may detach it): while an optimizer zeroes gradients in place
/// (LibTorch 1.13), backward accumulates straight into the buckets and a step copies nothing;
/// where it resets them (LibTorch 2.x), each gradient is copied into its slice once. Whether a
/// parameter has a gradient on some rank travels in the same all-reduce, after the gradients of
/// one bucket. Training scales each rank's loss by loss_scale() and calls sum_gradients(): the
/// sum is then the average, and no pass over the gradients divides them.
class GradientBuckets {
 public:
  /// Default bucket size: DDP's 25 MiB.
  static constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

  GradientBuckets(std::vector<torch::Tensor> parameters, core::Collective& group,
                  int64_t bucket_bytes = kDefaultBucketBytes);

  /// 1 / group size: the factor of each rank's loss that makes sum_gradients() an average.
  double loss_scale() const { return 1.0 / static_cast<double>(group_.world_size()); }

  /// Replaces every parameter's gradient by its sum over the group. A parameter without a
  /// gradient on this rank (unused in its batch) contributes zeros and receives the sum; one
  /// without a gradient on every rank keeps none (an optimizer would weight-decay a zero one).
  /// Collective: every rank calls it once per step.
  void sum_gradients();
  /// sum_gradients(), then divided by the group size: for callers that do not scale the loss.
  void average_gradients();

  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Bucket {
    std::vector<size_t> members;       ///< indices into parameters_
    std::vector<torch::Tensor> slots;  ///< per member: its gradient's alias of `flat`
    torch::Tensor flat;                ///< the members' gradients, then (one bucket) the flags
  };

  std::vector<torch::Tensor> parameters_;
  core::Collective& group_;
  std::vector<Bucket> buckets_;
  torch::Tensor used_;  ///< per parameter: 1 where it has a gradient; an alias into one bucket
};

}  // namespace ptqat::distributed
