#include "core/logging.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace ptqat::core {

TEST(Logging, UnknownLevelIsAConfigError) { EXPECT_THROW(init_logging("loud"), ConfigError); }

TEST(Logging, OtherRanksOnlyWarnUnlessDebugging) {
  init_logging("info", 1, 4);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
  init_logging("debug", 1, 4);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  init_logging("info", 0, 4);  // a second init replaces the logger
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
}

}  // namespace ptqat::core
