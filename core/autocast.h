#pragma once
// CUDA autocast in bfloat16 (mixed-precision training) on LibTorch 1.13 and 2.x: the C++ API
// moved from at::autocast::set_enabled / set_autocast_gpu_dtype (1.x .. 2.3) to per-device
// set_autocast_enabled / set_autocast_dtype (2.4, the old names later removed).

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace ptqat::core {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
inline bool cuda_autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
inline void set_cuda_autocast(bool enabled, at::ScalarType dtype) {
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
}
inline at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
#else
inline bool cuda_autocast_enabled() { return at::autocast::is_enabled(); }
inline void set_cuda_autocast(bool enabled, at::ScalarType dtype) {
  at::autocast::set_enabled(enabled);
  at::autocast::set_autocast_gpu_dtype(dtype);
}
inline at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_gpu_dtype(); }
#endif

/// CUDA autocast to bfloat16 for a scope (what torch.autocast("cuda", torch.bfloat16) does in
/// Python), restoring the previous state at exit; a no-op when `enabled` is false.
class CudaAutocastScope {
 public:
  explicit CudaAutocastScope(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    previous_enabled_ = cuda_autocast_enabled();
    previous_dtype_ = cuda_autocast_dtype();
    set_cuda_autocast(true, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~CudaAutocastScope() {
    if (!enabled_) return;
    // The cast weights are cached for the scope; the outermost scope drops them.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set_cuda_autocast(previous_enabled_, previous_dtype_);
  }
  CudaAutocastScope(const CudaAutocastScope&) = delete;
  CudaAutocastScope& operator=(const CudaAutocastScope&) = delete;

 private:
  bool enabled_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

}  // namespace ptqat::core
