#pragma once
// Running this executable again as a child process (the step benchmark's memory runs: each
// variant needs a fresh process so that its peak RSS is its own).

#include <string>
#include <vector>

namespace ptqat::bench {

/// What a finished child left.
struct ChildResult {
  int exit_code = -1;   ///< Exit status when it exited, else -1.
  int term_signal = 0;  ///< The signal that ended it, else 0.
  std::string out;      ///< Its stdout.
  std::string err;      ///< Its stderr.

  bool succeeded() const { return exit_code == 0 && term_signal == 0; }
  /// "exited with code 3" / "was killed by signal 9 (Killed)".
  std::string describe_status() const;
};

/// Runs /proc/self/exe with `arguments` (argv[1..]) in this environment (posix_spawn), captures
/// stdout and stderr, waits for it. Throws Error when the child cannot be started or a system
/// call fails; a failing child is reported in the result, not thrown.
ChildResult run_self(const std::vector<std::string>& arguments);

}  // namespace ptqat::bench
