#pragma once
// Error types and check macros: the project's two error channels (docs/style.md "Errors").
//
// User-facing problems (config, CLI, data, I/O, distributed setup) throw a ptqat::Error
// subclass whose message is one line: "<file or key>: expected ..., got ...". Broken
// invariants use PTQAT_ASSERT, whose message says that this is a bug.

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace ptqat {

/// Base of every error meant for the user; the CLI prints what() on one line and exits non-zero.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A config file, a --set override or a CLI argument is wrong.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A dataset file or table is missing, malformed or inconsistent.
class DataError : public Error {
 public:
  using Error::Error;
};

/// A distributed launch or collective failed (MPI, NCCL).
class DistError : public Error {
 public:
  using Error::Error;
};

/// A file could not be read or written (HDF5, zip, plain files).
class IoError : public Error {
 public:
  using Error::Error;
};

/// An internal invariant broke: a bug in ptqat, not bad input.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {
[[noreturn]] void throw_internal(const char* condition, const char* file, int line,
                                 const std::string& message);
}  // namespace detail

}  // namespace ptqat

/// Throws `ErrorType(fmt::format(...))` when `cond` is false; the message is formatted only then.
#define PTQAT_CHECK(cond, ErrorType, ...)                   \
  do {                                                      \
    if (!(cond)) throw ErrorType(fmt::format(__VA_ARGS__)); \
  } while (false)

/// Throws ErrorType unconditionally with a formatted message.
#define PTQAT_FAIL(ErrorType, ...) throw ErrorType(fmt::format(__VA_ARGS__))

/// Internal invariant: failing means a bug in ptqat.
#define PTQAT_ASSERT(cond, ...)                                                             \
  do {                                                                                      \
    if (!(cond))                                                                            \
      ::ptqat::detail::throw_internal(#cond, __FILE__, __LINE__, fmt::format(__VA_ARGS__)); \
  } while (false)
