#pragma once
// The `ptqat` command line: subcommands, their options, and the one place errors are printed.

#include <ostream>

namespace ptqat::runner {

/// Parses and runs a command line; returns the process exit code. User errors print one line
/// "error: ..." to `err` and return 1; --help and --version print to `out` and return 0.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace ptqat::runner
