#include "core/closest_name.h"

#include <gtest/gtest.h>

namespace ptqat::core {
namespace {

TEST(ClosestName, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("train", "train"), 0u);
  EXPECT_EQ(edit_distance("trian", "train"), 2u);  // a swap is two substitutions
  EXPECT_EQ(edit_distance("--confg", "--config"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(ClosestName, NearestWithinTheLimitFirstOfEquals) {
  const std::vector<std::string> names = {"train", "quantize", "eval", "sweep"};
  EXPECT_EQ(closest_name("trian", names), "train");
  EXPECT_EQ(closest_name("swep", names, 1), "sweep");
  EXPECT_EQ(closest_name("report", names, 2), "");  // nothing that close
  EXPECT_EQ(closest_name("xyz", {"abc", "abd"}), "abc");
  EXPECT_EQ(closest_name("x", {}), "");
}

}  // namespace
}  // namespace ptqat::core
