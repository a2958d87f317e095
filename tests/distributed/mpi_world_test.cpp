// Runs under `mpirun -np 2` (tests/distributed/CMakeLists.txt). Every test makes the same
// collective calls on every rank and checks results only after them, so a failed check on one
// rank never leaves the other waiting in a collective.

#include "distributed/mpi_world.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "distributed/mpi_check.h"

namespace ptqat::testing {
/// The world that mpi_main.cpp started for this run.
const distributed::MpiWorld& mpi_world();
}  // namespace ptqat::testing

namespace ptqat::distributed {
namespace {

constexpr int kLaunchedRanks = 2;

/// Every rank's `value`, in rank order, gathered with plain MPI (not through MpiWorld).
std::vector<int> all_gather(int value) {
  int size = 0;
  PTQAT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
  std::vector<int> values(static_cast<size_t>(size));
  PTQAT_MPI_CHECK(MPI_Allgather(&value, 1, MPI_INT, values.data(), 1, MPI_INT, MPI_COMM_WORLD));
  return values;
}

/// Every rank's host name, in rank order, from MPI_Get_processor_name called here, so the node
/// grouping is computed independently of MpiWorld.
std::vector<std::string> all_gather_hostnames() {
  std::vector<char> mine(MPI_MAX_PROCESSOR_NAME, '\0');
  int length = 0;
  PTQAT_MPI_CHECK(MPI_Get_processor_name(mine.data(), &length));
  int size = 0;
  PTQAT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
  std::vector<char> all(static_cast<size_t>(size) * MPI_MAX_PROCESSOR_NAME, '\0');
  PTQAT_MPI_CHECK(MPI_Allgather(mine.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(),
                                MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD));
  std::vector<std::string> names;
  for (int r = 0; r < size; ++r) {
    names.emplace_back(all.data() + static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME);
  }
  return names;
}

TEST(MpiWorld, IsTheTwoRankWorldThatMpirunStarted) {
  const MpiWorld& world = testing::mpi_world();
  std::vector<int> ranks = all_gather(world.rank());
  int mpi_rank = -1;
  PTQAT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank));

  EXPECT_TRUE(MpiWorld::launched_by_mpirun());
  EXPECT_EQ(world.world_size(), kLaunchedRanks);
  EXPECT_EQ(world.rank(), mpi_rank);
  std::sort(ranks.begin(), ranks.end());
  EXPECT_EQ(ranks, (std::vector<int>{0, 1}));
}

TEST(MpiWorld, AllreduceSumsRankPlusOneToThreeOnEveryRank) {
  const int contribution = testing::mpi_world().rank() + 1;
  int sum = 0;
  PTQAT_MPI_CHECK(MPI_Allreduce(&contribution, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
  EXPECT_EQ(sum, 1 + 2);
}

TEST(MpiWorld, LocalRanksNumberTheRanksOfOneHostInWorldOrder) {
  const MpiWorld& world = testing::mpi_world();
  const std::vector<std::string> hosts = all_gather_hostnames();
  const std::vector<int> local_ranks = all_gather(world.local_rank());

  // Independently: the ranks on my host, and how many of them come before me.
  int same_host = 0;
  int same_host_before_me = 0;
  for (int r = 0; r < static_cast<int>(hosts.size()); ++r) {
    if (hosts[static_cast<size_t>(r)] != hosts[static_cast<size_t>(world.rank())]) continue;
    ++same_host;
    if (r < world.rank()) ++same_host_before_me;
  }
  EXPECT_FALSE(world.hostname().empty());
  EXPECT_EQ(world.hostname(), hosts[static_cast<size_t>(world.rank())]);
  EXPECT_LT(world.local_rank(), world.local_size());
  EXPECT_EQ(world.local_size(), same_host);
  EXPECT_EQ(world.local_rank(), same_host_before_me);
  EXPECT_EQ(local_ranks[static_cast<size_t>(world.rank())], world.local_rank());
}

TEST(MpiWorld, OnlyOneMayExist) {
  try {
    MpiWorld second;
    FAIL() << "a second MpiWorld was constructed";
  } catch (const DistError& error) {
    EXPECT_NE(std::string(error.what()).find("one per process"), std::string::npos) << error.what();
  }
}

TEST(MpiWorld, MakesMpiErrorsReturnCodesInsteadOfKillingTheJob) {
  MPI_Errhandler handler = MPI_ERRHANDLER_NULL;
  PTQAT_MPI_CHECK(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &handler));
  const bool returns = handler == MPI_ERRORS_RETURN;
  PTQAT_MPI_CHECK(MPI_Errhandler_free(&handler));
  EXPECT_TRUE(returns);
}

TEST(MpiCheck, FailingCallThrowsDistErrorNamingCallReasonPlaceAndRank) {
  // Rank 99 does not exist in a world of two: MPI_Send fails its argument check at once and
  // returns MPI_ERR_RANK (MpiWorld installed MPI_ERRORS_RETURN), nothing is sent.
  const int payload = 7;
  char expected_reason[MPI_MAX_ERROR_STRING];
  int length = 0;
  PTQAT_MPI_CHECK(MPI_Error_string(MPI_ERR_RANK, expected_reason, &length));
  const int rank = testing::mpi_world().rank();
  try {
    PTQAT_MPI_CHECK(MPI_Send(&payload, 1, MPI_INT, 99, 0, MPI_COMM_WORLD));
    FAIL() << "MPI_Send to rank 99 did not throw";
  } catch (const DistError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("MPI_Send(&payload, 1, MPI_INT, 99, 0, MPI_COMM_WORLD) failed"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(std::string(expected_reason, static_cast<size_t>(length))),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("mpi_world_test.cpp:"), std::string::npos) << message;
    EXPECT_NE(message.find("on rank " + std::to_string(rank)), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace ptqat::distributed
