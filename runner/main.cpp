// The ptqat executable.

#include <iostream>

#include "core/error.h"
#include "core/resources.h"
#include "runner/cli.h"

int main(int argc, char** argv) {
  ptqat::core::keep_freed_memory_in_heap();  // Note [allocator] in core/resources.h
  try {
    return ptqat::runner::run_cli(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& error) {
    // Not a user error: a bug or a library failure. Still one line, and a distinct code.
    std::cerr << "error: " << error.what() << "\n";
    return 70;
  }
}
