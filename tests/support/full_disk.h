#pragma once
// A full disk for fault-injection tests: a child process whose files may not grow past a limit
// (RLIMIT_FSIZE). Its writes past the limit fail with EFBIG, as they would with ENOSPC on a full
// file system; SIGXFSZ is ignored so that the write returns the error instead of killing it.
// Mounting a small tmpfs would need privileges CI does not have.

#include <sys/resource.h>

#include <functional>
#include <string>

namespace ptqat::testing {

/// Runs `body` in a forked child whose files are limited to `bytes` and says how it ended:
/// "IoError: <message>", "<kind of exception>: <message>", "returned", or "killed by signal N"
/// (an abort or a segfault inside a library shows here, not in the test process).
std::string outcome_with_full_disk(rlim_t bytes, const std::function<void()>& body);

}  // namespace ptqat::testing
