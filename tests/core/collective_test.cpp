#include "core/collective.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace ptqat::core {

TEST(SingleProcessCollective, IsAGroupOfOneThatKeepsValues) {
  SingleProcessCollective group;
  EXPECT_EQ(group.rank(), 0);
  EXPECT_EQ(group.world_size(), 1);
  auto values = torch::tensor({1.5f, -2.0f, 3.0f});
  const auto before = values.clone();
  group.all_reduce_sum(values);
  group.all_reduce_max(values);
  group.broadcast(values, 0);
  group.barrier();
  EXPECT_TRUE(torch::equal(values, before));
}

TEST(SingleProcessCollective, BroadcastFromAMissingRankIsAnError) {
  SingleProcessCollective group;
  EXPECT_THROW(group.broadcast(torch::zeros({2}), 1), DistError);
}

}  // namespace ptqat::core
