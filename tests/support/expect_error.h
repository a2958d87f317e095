#pragma once
// Asserting on one-line error messages.

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace ptqat::testing {

/// Runs `body`, which must throw ErrorType whose message holds every one of `parts`.
template <class ErrorType, class Body>
void expect_error(Body body, std::initializer_list<std::string> parts) {
  try {
    body();
    ADD_FAILURE() << "expected an exception";
  } catch (const ErrorType& error) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
          << "'" << part << "' not in: " << error.what();
  }
}

}  // namespace ptqat::testing
