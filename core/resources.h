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

/// Peak resident set size of this process so far, in bytes (getrusage ru_maxrss). Ignores
/// reset_peak_rss(); use high_water_rss_bytes() to measure a phase.
int64_t peak_rss_bytes();

/// Resident set size of this process now, in bytes (/proc/self/statm). Throws IoError when
/// /proc is unreadable.
int64_t current_rss_bytes();

/// Resets the kernel's peak-RSS mark (VmHWM) to the current RSS by writing "5" to
/// /proc/self/clear_refs (Linux 4.0+). Returns false where the kernel or a sandbox refuses, in
/// which case high_water_rss_bytes() keeps counting from process start.
bool reset_peak_rss();

/// Peak RSS since process start or the last successful reset_peak_rss(), in bytes (VmHWM of
/// /proc/self/status). Throws IoError when /proc is unreadable.
int64_t high_water_rss_bytes();

/// The opposite of keep_freed_memory_in_heap(), for memory measurements: blocks above 64 KiB
/// get their own mmap, unmapped on free, and the heap is trimmed once 128 KiB lie free at its
/// top, so that the RSS follows live memory instead of the allocator's retention and
/// fragmentation (which depend on the order of allocations, not on what a computation needs).
/// Every large allocation then page-faults: not for training.
void make_rss_follow_live_memory();

/// Returns the heap's free pages to the OS once (glibc malloc_trim), so that current_rss_bytes()
/// counts live memory rather than what keep_freed_memory_in_heap() retains.
void release_freed_memory();

}  // namespace ptqat::core
