// Runs under `mpirun -np 2`. Every rank makes the same collective calls; checks come after.

#include "distributed/mpi_communicator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"

namespace ptqat::distributed {
namespace {

constexpr int kRanks = 2;

TEST(MpiCommunicator, WorldSeesEveryRank) {
  MpiCommunicator world = MpiCommunicator::world();
  EXPECT_EQ(world.world_size(), kRanks);
  int mpi_rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
  EXPECT_EQ(world.rank(), mpi_rank);
}

TEST(MpiCommunicator, AllReduceSumsAndMaximisesInPlaceForEveryDtype) {
  MpiCommunicator world = MpiCommunicator::world();
  const int r = world.rank();
  for (const auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt8, torch::kInt32,
                           torch::kInt64, torch::kUInt8}) {
    // Rank r holds [r + 1, 10 * (r + 1), 3 - r]: sum [3, 30, 5], max [2, 20, 3].
    const torch::Tensor sum = torch::tensor({r + 1, 10 * (r + 1), 3 - r}).to(dtype);
    const torch::Tensor max = sum.clone();
    const void* storage = sum.data_ptr();
    world.all_reduce_sum(sum);
    world.all_reduce_max(max);
    EXPECT_EQ(sum.data_ptr(), storage);
    EXPECT_TRUE(torch::equal(sum, torch::tensor({3, 30, 5}).to(dtype))) << dtype << sum;
    EXPECT_TRUE(torch::equal(max, torch::tensor({2, 20, 3}).to(dtype))) << dtype << max;
  }
  const torch::Tensor any = torch::tensor({r == 1, false});
  world.all_reduce_max(any);
  EXPECT_TRUE(torch::equal(any, torch::tensor({true, false})));
}

TEST(MpiCommunicator, FloatSumsAreExactlyWhatOneProcessComputes) {
  MpiCommunicator world = MpiCommunicator::world();
  torch::manual_seed(7);
  const torch::Tensor all = torch::randn({kRanks, 1000}, torch::kFloat64);
  const torch::Tensor mine = all[world.rank()].clone();
  world.all_reduce_sum(mine);
  // Two addends: the sum is the same in any order.
  EXPECT_TRUE(torch::equal(mine, all[0] + all[1]));
}

TEST(MpiCommunicator, BroadcastCopiesTheRootsTensor) {
  MpiCommunicator world = MpiCommunicator::world();
  const torch::Tensor tensor = torch::full({4, 3}, static_cast<float>(world.rank()));
  world.broadcast(tensor, 1);
  EXPECT_TRUE(torch::equal(tensor, torch::full({4, 3}, 1.0f)));
}

TEST(MpiCommunicator, AllGatherStacksInRankOrder) {
  MpiCommunicator world = MpiCommunicator::world();
  const torch::Tensor mine = torch::full({2, 2}, world.rank() * 5, torch::kInt64);
  const torch::Tensor gathered = world.all_gather(mine);
  ASSERT_EQ(gathered.sizes(), (std::vector<int64_t>{kRanks, 2, 2}));
  EXPECT_TRUE(torch::equal(gathered[0], torch::zeros({2, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(gathered[1], torch::full({2, 2}, 5, torch::kInt64)));
}

TEST(MpiCommunicator, AllGatherBytesKeepsEachRanksLength) {
  MpiCommunicator world = MpiCommunicator::world();
  // Rank 0 sends nothing, rank 1 bytes with a zero inside.
  const std::string mine = world.rank() == 0 ? std::string() : std::string("a\0b", 3);
  const std::vector<std::string> all = world.all_gather_bytes(mine);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "");
  EXPECT_EQ(all[1], std::string("a\0b", 3));
}

TEST(MpiCommunicator, SplitFormsGroupsByColour) {
  MpiCommunicator world = MpiCommunicator::world();
  // One group per rank: reductions stay inside it.
  MpiCommunicator alone = world.split(world.rank(), 0);
  EXPECT_EQ(alone.world_size(), 1);
  EXPECT_EQ(alone.rank(), 0);
  const torch::Tensor value = torch::tensor({world.rank() + 1.0});
  alone.all_reduce_sum(value);
  EXPECT_EQ(value.item<double>(), world.rank() + 1.0);
  // One group of both, ordered by key: reversed ranks.
  MpiCommunicator reversed = world.split(0, kRanks - world.rank());
  EXPECT_EQ(reversed.world_size(), kRanks);
  EXPECT_EQ(reversed.rank(), kRanks - 1 - world.rank());
}

TEST(MpiCommunicator, RejectsWhatItCannotReduceBeforeCommunicating) {
  // Local checks: each rank throws before any MPI call, so no rank is left waiting.
  MpiCommunicator world = MpiCommunicator::world();
  const torch::Tensor strided = torch::zeros({4, 4}).t();
  EXPECT_THROW(world.all_reduce_sum(strided), DistError);
  EXPECT_THROW(world.all_reduce_sum(torch::zeros({2}, torch::kFloat16)), DistError);
  EXPECT_THROW(world.all_reduce_sum(torch::zeros({2}, torch::kBool)), DistError);
  EXPECT_THROW(world.broadcast(torch::zeros({2}), kRanks), DistError);
  try {
    world.all_reduce_sum(strided);
  } catch (const DistError& error) {
    EXPECT_NE(std::string(error.what()).find("non-contiguous"), std::string::npos);
  }
}

}  // namespace
}  // namespace ptqat::distributed
