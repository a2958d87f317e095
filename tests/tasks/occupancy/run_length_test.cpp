#include "tasks/occupancy/run_length.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace ptqat::tasks::occupancy {
namespace {

TEST(RunLength, RoundTripsAGridInFewRuns) {
  torch::Tensor grid = torch::full({200, 200, 16}, 17, torch::kUInt8);
  grid.index_put_({torch::indexing::Slice(50, 60)}, 11);
  grid[199][199][15] = 4;
  const RunLength runs = encode_runs(grid);
  EXPECT_LT(runs.counts.size(), 50u);
  EXPECT_TRUE(runs.decode().equal(grid));
  torch::manual_seed(0);
  const torch::Tensor noise = torch::randint(0, 3, {7, 5}, torch::kInt64).to(torch::kUInt8);
  EXPECT_TRUE(encode_runs(noise).decode().equal(noise));
}

TEST(RunLength, RunsThatDoNotCoverTheShapeAreDataErrors) {
  RunLength runs = encode_runs(torch::zeros({4, 4}, torch::kUInt8));
  runs.counts[0] = 15;
  EXPECT_THROW(runs.decode(), DataError);
  runs.counts[0] = 17;
  EXPECT_THROW(runs.decode(), DataError);
}

}  // namespace
}  // namespace ptqat::tasks::occupancy
