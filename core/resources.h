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

/// Keeps large freed blocks in the heap instead of returning them to the OS (glibc mallopt).
/// Note [allocator]: glibc serves blocks above its mmap threshold with mmap and unmaps them on
/// free, so every fresh multi-MB tensor (a sample's points, a 24 MB pillar feature tensor)
/// page-faults on first touch, and page faults serialise threads on the process's mm lock. The
/// loader benchmark (bench/loader_bench) measures the difference. Call once at startup.
void keep_freed_memory_in_heap();

/// Peak resident set size of this process so far, in bytes (getrusage ru_maxrss).
int64_t peak_rss_bytes();

}  // namespace ptqat::core
