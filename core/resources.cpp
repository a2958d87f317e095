#include "core/resources.h"

#include <malloc.h>
#include <sys/resource.h>

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

}  // namespace ptqat::core
