#pragma once
// Time and memory probes for cost reporting and benchmarks.

#include <chrono>
#include <cstdint>

namespace ptqat::core {

/// Wall-clock stopwatch started at construction.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

/// Peak resident set size of this process so far, in bytes (getrusage ru_maxrss).
int64_t peak_rss_bytes();

}  // namespace ptqat::core
