// The NCCL collective over CUDA tensors: sums, maxima and broadcasts of LibTorch tensors across
// the ranks, the bytes and barriers over MPI, and a clear error for a CPU tensor. Skipped
// without a CUDA device per rank.

#include "distributed/nccl_collective.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "distributed/nccl_comm.h"

namespace ptqat::distributed {
namespace {

TEST(NcclCollective, ReducesAndBroadcastsCudaTensorsOverTheRanks) {
  MpiCommunicator world = MpiCommunicator::world();
  const int devices = cuda_device_count();
  if (devices < world.world_size() || !torch::cuda::is_available()) {
    GTEST_SKIP() << devices << " CUDA devices for " << world.world_size() << " ranks";
  }
  const int rank = world.rank();
  const torch::Device device(torch::kCUDA, static_cast<c10::DeviceIndex>(rank % devices));
  NcclCollective nccl(world, rank % devices);
  EXPECT_EQ(nccl.rank(), rank);
  EXPECT_EQ(nccl.world_size(), world.world_size());

  const torch::Tensor sum = torch::full({1000}, rank + 1.0, torch::TensorOptions(device));
  nccl.all_reduce_sum(sum);
  const double total = world.world_size() * (world.world_size() + 1) / 2.0;
  EXPECT_TRUE(torch::equal(sum.cpu(), torch::full({1000}, total)));
  const torch::Tensor max = torch::tensor({static_cast<int64_t>(rank)}, torch::TensorOptions(device));
  nccl.all_reduce_max(max);
  EXPECT_EQ(max.item<int64_t>(), world.world_size() - 1);
  const torch::Tensor root = torch::full({3}, rank == 0 ? 7.0 : -1.0, torch::TensorOptions(device));
  nccl.broadcast(root, 0);
  EXPECT_TRUE(torch::equal(root.cpu(), torch::full({3}, 7.0)));
  EXPECT_EQ(nccl.all_gather_bytes(std::to_string(rank)).size(), static_cast<size_t>(world.world_size()));
  nccl.barrier();
  EXPECT_THROW(nccl.all_reduce_sum(torch::ones({2})), DistError);
}

}  // namespace
}  // namespace ptqat::distributed
