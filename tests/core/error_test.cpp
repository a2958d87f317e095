#include "core/error.h"

#include <gtest/gtest.h>

namespace ptqat {

TEST(Check, ThrowsTheNamedTypeWithTheFormattedMessage) {
  try {
    PTQAT_CHECK(1 + 1 == 3, DataError, "{}: expected {} bytes, got {}", "a.pcd.bin", 20, 7);
    FAIL() << "no throw";
  } catch (const DataError& error) {
    EXPECT_STREQ(error.what(), "a.pcd.bin: expected 20 bytes, got 7");
  }
}

TEST(Check, PassingConditionDoesNotFormat) {
  int formatted = 0;
  auto count = [&] { return ++formatted; };
  PTQAT_CHECK(true, ConfigError, "{}", count());
  EXPECT_EQ(formatted, 0);
}

TEST(Assert, SaysItIsABug) {
  try {
    PTQAT_ASSERT(false, "value {}", 3);
    FAIL() << "no throw";
  } catch (const InternalError& error) {
    EXPECT_NE(std::string(error.what()).find("this is a bug"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("value 3"), std::string::npos);
  }
}

}  // namespace ptqat
