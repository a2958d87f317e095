#pragma once
// core::Collective: what lower folders (quant, datasets, tasks) need from a process group,
// without knowing MPI or NCCL. The MPI and NCCL implementations live in distributed/.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace ptqat::core {

/// Collective operations over the ranks of one group. Every call is collective: all ranks of the
/// group must make the same calls in the same order with tensors of the same shape and dtype.
/// Operations work in place on the tensor's storage.
class Collective {
 public:
  virtual ~Collective() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  /// Elementwise sum over ranks, result on every rank.
  virtual void all_reduce_sum(const torch::Tensor& tensor) = 0;
  /// Elementwise maximum over ranks, result on every rank.
  virtual void all_reduce_max(const torch::Tensor& tensor) = 0;
  /// Copies `root`'s tensor into every other rank's tensor.
  virtual void broadcast(const torch::Tensor& tensor, int root) = 0;
  /// Returns once every rank has entered.
  virtual void barrier() = 0;
  /// Every rank's bytes, in rank order; lengths may differ (a sharded evaluation's predictions).
  virtual std::vector<std::string> all_gather_bytes(const std::string& bytes) = 0;
};

/// The group of one process: every operation leaves the tensor as it is.
class SingleProcessCollective final : public Collective {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(const torch::Tensor& tensor) override;
  void all_reduce_max(const torch::Tensor& tensor) override;
  void broadcast(const torch::Tensor& tensor, int root) override;
  void barrier() override {}
  std::vector<std::string> all_gather_bytes(const std::string& bytes) override { return {bytes}; }
};

}  // namespace ptqat::core
