#include "bench/step_bench_spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

extern char** environ;

namespace ptqat::bench {

namespace {

/// Throws Error naming the call when a POSIX call returned non-zero; `code` is its error number
/// (posix_spawn* return it) or -1 to read errno.
void check_posix(int code, const char* call) {
  if (code == 0) return;
  const int error = code == -1 ? errno : code;
  PTQAT_FAIL(Error, "bench step: {} failed: {}", call, std::strerror(error));
}

/// Closes a file descriptor once.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  FileDescriptor read_end, write_end;
};

Pipe make_pipe() {
  std::array<int, 2> fds{};
  // Close-on-exec: the child keeps only the ends dup2'ed onto its stdout and stderr, so the
  // parent sees end-of-file when the child exits.
  check_posix(pipe2(fds.data(), O_CLOEXEC), "pipe2");
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

/// posix_spawn_file_actions_t with its destroy.
class FileActions {
 public:
  FileActions() {
    check_posix(posix_spawn_file_actions_init(&actions_), "posix_spawn_file_actions_init");
  }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
};

/// Reads both pipes until both reach end-of-file (poll: a child filling one pipe while the
/// parent blocks on the other would deadlock).
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  std::array<pollfd, 2> fds{pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}};
  std::array<std::string*, 2> sinks{&out, &err};
  int open = 2;
  std::array<char, 65536> buffer{};
  while (open > 0) {
    const int ready = poll(fds.data(), fds.size(), -1);
    if (ready < 0 && errno == EINTR) continue;
    check_posix(ready < 0 ? -1 : 0, "poll");
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      check_posix(n < 0 ? -1 : 0, "read");
      if (n == 0) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open;
      } else {
        sinks[i]->append(buffer.data(), static_cast<size_t>(n));
      }
    }
  }
}

}  // namespace

std::string ChildResult::describe_status() const {
  if (term_signal != 0) {
    return fmt::format("was killed by signal {} ({})", term_signal, strsignal(term_signal));
  }
  return fmt::format("exited with code {}", exit_code);
}

ChildResult run_self(const std::vector<std::string>& arguments) {
  // /proc/self/exe names this executable even when it was started through PATH or a relative
  // path; spawning that path runs the same file.
  const char* self = "/proc/self/exe";
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(self));
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);

  Pipe out = make_pipe();
  Pipe err = make_pipe();
  FileActions actions;
  check_posix(posix_spawn_file_actions_adddup2(actions.get(), out.write_end.get(), STDOUT_FILENO),
              "posix_spawn_file_actions_adddup2");
  check_posix(posix_spawn_file_actions_adddup2(actions.get(), err.write_end.get(), STDERR_FILENO),
              "posix_spawn_file_actions_adddup2");
  pid_t pid = 0;
  check_posix(posix_spawn(&pid, self, actions.get(), nullptr, argv.data(), environ),
              "posix_spawn /proc/self/exe");
  out.write_end.reset();
  err.write_end.reset();

  ChildResult result;
  drain(out.read_end.get(), err.read_end.get(), result.out, result.err);
  int status = 0;
  pid_t waited = -1;
  do {
    waited = waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  check_posix(waited < 0 ? -1 : 0, "waitpid");
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

}  // namespace ptqat::bench
