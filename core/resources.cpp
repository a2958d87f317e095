#include "core/resources.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/error.h"

namespace ptqat::core {

void keep_freed_memory_in_heap() {
  // 32 MiB is glibc's largest allowed mmap threshold on 64-bit; the trim threshold keeps up to
  // 1 GiB of freed heap for reuse.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

int64_t current_rss_bytes() {
  // statm: size resident shared text lib data dt, in pages.
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  PTQAT_CHECK(statm, IoError, "/proc/self/statm: expected '<size> <resident> ...', unreadable");
  return resident_pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

bool reset_peak_rss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";  // "5": reset the peak RSS (Documentation/filesystems/proc.rst)
  clear_refs.flush();
  return static_cast<bool>(clear_refs);
}

int64_t high_water_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      int64_t kilobytes = 0;
      status >> kilobytes;  // followed by "kB"
      PTQAT_CHECK(status, IoError, "/proc/self/status: expected 'VmHWM: <n> kB', unreadable");
      return kilobytes * 1024;
    }
    std::getline(status, key);
  }
  PTQAT_FAIL(IoError, "/proc/self/status: expected a VmHWM line, found none");
}

void make_rss_follow_live_memory() {
  // mallopt returns 0 only for an out-of-range value: these are in range on every glibc.
  const bool set =
      mallopt(M_MMAP_THRESHOLD, 64 << 10) == 1 && mallopt(M_TRIM_THRESHOLD, 128 << 10) == 1;
  PTQAT_ASSERT(set, "mallopt refused the mmap and trim thresholds");
}

void release_freed_memory() { malloc_trim(0); }

}  // namespace ptqat::core
