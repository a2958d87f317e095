#include "tests/support/full_disk.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <exception>

#include "core/error.h"

namespace ptqat::testing {

std::string outcome_with_full_disk(rlim_t bytes, const std::function<void()>& body) {
  std::array<int, 2> pipe_ends{};
  if (::pipe(pipe_ends.data()) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    ::close(pipe_ends[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{bytes, bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    std::string outcome = "returned";
    try {
      body();
    } catch (const IoError& error) {
      outcome = std::string("IoError: ") + error.what();
    } catch (const std::exception& error) {
      outcome = std::string("another exception: ") + error.what();
    }
    const ssize_t written = ::write(pipe_ends[1], outcome.data(), outcome.size());
    ::_exit(written == static_cast<ssize_t>(outcome.size()) ? 0 : 1);  // no atexit handlers
  }
  ::close(pipe_ends[1]);
  std::string outcome;
  std::array<char, 4096> buffer{};
  for (ssize_t n; (n = ::read(pipe_ends[0], buffer.data(), buffer.size())) > 0;) {
    outcome.append(buffer.data(), static_cast<size_t>(n));
  }
  ::close(pipe_ends[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return outcome;
}

}  // namespace ptqat::testing
