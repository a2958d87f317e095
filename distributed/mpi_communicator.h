#pragma once
// MpiCommunicator: core::Collective over an MPI communicator, for CPU tensors. The runner's
// data-parallel training and sharded evaluation use it for everything on the CPU; CUDA tensors
// go through the NCCL communicator instead (Open MPI from Debian is not CUDA-aware).
//
// LibTorch 1.13 as Debian builds it has no MPI process group (c10d's ProcessGroupMPI needs a
// build with USE_MPI), and 2.x's c10d API differs from 1.13's, so this talks to MPI directly.

#include <mpi.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/collective.h"

namespace ptqat::distributed {

class MpiCommunicator final : public core::Collective {
 public:
  /// Every rank of the job, on a duplicate of MPI_COMM_WORLD: ptqat's messages never match a
  /// library's. Collective over MPI_COMM_WORLD; MPI must be running (MpiWorld).
  static MpiCommunicator world();

  /// Splits this group: ranks passing the same `color` form one new group, ordered by `key`
  /// then by their rank here (MPI_Comm_split). Collective over this group.
  MpiCommunicator split(int color, int key) const;

  /// Frees the communicator (unless MPI has already finished).
  ~MpiCommunicator() override;
  MpiCommunicator(MpiCommunicator&& other) noexcept;
  MpiCommunicator& operator=(MpiCommunicator&& other) noexcept;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }

  /// The tensors must be contiguous CPU tensors of float32/64, int8/32/64, uint8 or bool
  /// (DistError otherwise, on the calling rank before any communication).
  void all_reduce_sum(const torch::Tensor& tensor) override;
  void all_reduce_max(const torch::Tensor& tensor) override;
  void broadcast(const torch::Tensor& tensor, int root) override;
  void barrier() override;

  /// Every rank's `tensor` (same shape and dtype on every rank) stacked along a new first
  /// dimension in rank order: [world_size, *tensor.sizes()].
  torch::Tensor all_gather(const torch::Tensor& tensor);
  /// Every rank's bytes, in rank order; lengths may differ (predictions of a sharded evaluation).
  std::vector<std::string> all_gather_bytes(const std::string& bytes) override;

  MPI_Comm handle() const { return comm_; }

 private:
  explicit MpiCommunicator(MPI_Comm comm);
  void all_reduce(const torch::Tensor& tensor, MPI_Op op, const char* what);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace ptqat::distributed
