#pragma once
// Runs the real `ptqat` executable of the build (PTQAT_EXECUTABLE) as a user would.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace ptqat::testing {

struct CliRun {
  int exit_code;
  std::string output;
};

/// Runs a shell command; `output` holds stdout, and stderr too when `with_stderr` (otherwise
/// stderr, the logs, goes to the test's stderr).
inline CliRun run_command(const std::string& command_line, bool with_stderr = true) {
  const std::string command = command_line + (with_stderr ? " 2>&1" : "");
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer{};
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

/// Runs `ptqat <arguments>` (see run_command).
inline CliRun ptqat(const std::string& arguments, bool with_stderr = true) {
  return run_command(std::string(PTQAT_EXECUTABLE) + " " + arguments, with_stderr);
}

}  // namespace ptqat::testing
