#pragma once
// core::Collective over CUDA tensors: NCCL for the data (gradients, BatchNorm statistics, model
// broadcasts) and the group's MPI communicator for bytes and barriers. Built when CMake finds
// NCCL (PTQAT_WITH_NCCL); data-parallel training on GPUs uses it (docs/distributed.md).
//
// It enqueues on the legacy default CUDA stream, the one LibTorch's kernels run on unless a
// caller changes the current stream, and waits for it before returning: the Collective contract
// is synchronous, and ordering with the surrounding kernels comes for free.

#include <memory>

#include "core/collective.h"
#include "distributed/mpi_communicator.h"
#include "distributed/nccl_comm.h"

namespace ptqat::distributed {

class NcclCollective final : public core::Collective {
 public:
  /// Joins every rank of `group` on CUDA device `device` (collective over `group`, which must
  /// outlive this). DistError naming the call on a CUDA or NCCL failure.
  NcclCollective(MpiCommunicator& group, int device);

  int rank() const override { return nccl_.rank(); }
  int world_size() const override { return nccl_.size(); }
  /// CUDA tensors only (contiguous, of NCCL's dtypes); DistError otherwise.
  void all_reduce_sum(const torch::Tensor& tensor) override;
  void all_reduce_max(const torch::Tensor& tensor) override;
  void broadcast(const torch::Tensor& tensor, int root) override;
  void barrier() override { group_.barrier(); }
  std::vector<std::string> all_gather_bytes(const std::string& bytes) override {
    return group_.all_gather_bytes(bytes);
  }

 private:
  MpiCommunicator& group_;
  NcclComm nccl_;
};

}  // namespace ptqat::distributed
