// The ptqat executable.

#include <iostream>

#include "core/error.h"
#include "runner/cli.h"

int main(int argc, char** argv) {
  try {
    return ptqat::runner::run_cli(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& error) {
    // Not a user error: a bug or a library failure. Still one line, and a distinct code.
    std::cerr << "error: " << error.what() << "\n";
    return 70;
  }
}
