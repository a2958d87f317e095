#include "core/preemption.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>

namespace ptqat::core {
namespace {

// Each case runs in a child process (EXPECT_EXIT forks): the flag and the handlers are global.
TEST(Preemption, EachSignalOfTheListRaisesTheFlag) {
  for (const int signal : {SIGUSR1, SIGTERM}) {
    EXPECT_EXIT(
        {
          install_preemption_signals("USR1,SIGTERM");
          std::raise(signal);
          std::exit(preemption_requested() ? 0 : 1);
        },
        testing::ExitedWithCode(0), "")
        << signal;
  }
}

TEST(Preemption, AnUnknownNameIsAConfigErrorNamingIt) {
  try {
    install_preemption_signals("USR1,KILL");
    ADD_FAILURE() << "KILL was accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("got 'KILL'"), std::string::npos) << error.what();
  }
  EXPECT_THROW(install_preemption_signals(""), ConfigError);
}

}  // namespace
}  // namespace ptqat::core
