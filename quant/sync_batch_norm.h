#pragma once
// Synchronized BatchNorm: in training, the batch statistics (and, in backward, the sums the
// input gradient needs) span every rank of a group, so that N ranks with batch B normalize
// exactly like one process with batch N x B. LibTorch has no SyncBatchNorm (PyTorch's is Python
// over c10d, which Debian's LibTorch lacks for MPI), hence this one.
//
// Models call batch_norm(bn, x) instead of bn->forward(x); it is the module's own forward unless
// the calling thread is inside a SyncBatchNormScope and the module is training.

#include <torch/torch.h>

#include "core/collective.h"

namespace ptqat::quant {

/// While alive, training-mode batch_norm() calls on this thread use statistics over `group`
/// (which must outlive the scope). Scopes do not nest.
class SyncBatchNormScope {
 public:
  explicit SyncBatchNormScope(core::Collective& group);
  ~SyncBatchNormScope();
  SyncBatchNormScope(const SyncBatchNormScope&) = delete;
  SyncBatchNormScope& operator=(const SyncBatchNormScope&) = delete;
};

/// The group of this thread's SyncBatchNormScope, or nullptr.
core::Collective* sync_batch_norm_group();

/// Training-mode BatchNorm of `x` ([N, C, ...]) with statistics over every rank of `group`:
/// updates the running statistics as torch::nn::BatchNorm does (momentum, or the cumulative
/// average when `momentum` is negative; unbiased variance) and differentiates through the
/// global statistics. Collective: every rank calls it (and its backward) in the same order.
torch::Tensor sync_batch_norm(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, torch::Tensor& running_mean,
                              torch::Tensor& running_var, torch::Tensor& num_batches_tracked,
                              double momentum, double eps, core::Collective& group);

/// `bn` (a torch::nn::BatchNorm1d/2d/3d holder) applied to `x`: synchronized inside a
/// SyncBatchNormScope while training, the module's own forward otherwise.
template <class BatchNorm>
torch::Tensor batch_norm(BatchNorm& bn, const torch::Tensor& x) {
  core::Collective* group = sync_batch_norm_group();
  if (group == nullptr || !bn->is_training() || group->world_size() == 1) return bn->forward(x);
  const auto& momentum = bn->options.momentum();
  return sync_batch_norm(x, bn->weight, bn->bias, bn->running_mean, bn->running_var,
                         bn->num_batches_tracked, momentum ? *momentum : -1.0, bn->options.eps(),
                         *group);
}

}  // namespace ptqat::quant
