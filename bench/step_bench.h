#pragma once
// `ptqat bench step`: training-step time and peak memory of float, full QAT (W4A8) and PTQAT
// (freeze 0.5, by the paper's rule or a fixed frozen set) on a fixed model.
//
// Note [step benchmark]:
// - Time: one process builds the three variants (same seed, same input and target) and
//   interleaves them step by step (float, qat, ptqat, float, ...), so that drift (frequency,
//   other load) hits all three alike; the first `warmup` rounds are dropped and the medians of
//   the rest reported. A step is zero_grad, forward, MSE loss, backward, AdamW (lr 1e-4) step.
// - Memory: each variant runs in its own process (this executable, a hidden option), which sets
//   up model, optimizer and data (calibration included), returns freed heap to the OS, resets
//   the kernel's peak-RSS mark and runs two steps; the figure is the peak RSS over the RSS at
//   that point: activations saved for backward, gradients, optimizer state (created in the
//   first step, so the second step's peak is the steady one) and workspace. The process
//   allocates with core::make_rss_follow_live_memory(), so that the RSS measures live memory:
//   with the training allocator settings (core::keep_freed_memory_in_heap) the growth adds
//   40-70 MiB of retained, fragmented heap on `bev` that varies with allocation order.
// - QAT and PTQAT: W4 per-channel weights, A8 inputs on every layer (first and last too),
//   calibrated on one batch (the training input), BatchNorm statistics frozen. PTQAT freezes
//   half the layers: with `--selection rule` (default) those the paper's rule freezes at ratio
//   0.5 by the default discrepancy measured on that batch, the costs of the selection the
//   method makes; with `--selection alternate` every other quantizable layer in forward order,
//   starting with the first, a set that does not move when quantization numerics change, so
//   that figures compare across versions.
// - CPU only. A `bev` step takes 0.25-0.55 s on one thread (x86-64 with AVX2, LibTorch 1.13),
//   so the defaults (20 timed rounds after 3 warm-up ones) take 30-50 s on one thread, memory
//   runs included.

#include <cstdint>
#include <ostream>
#include <string>

namespace ptqat::bench {

/// Options of `ptqat bench step`.
struct StepBenchOptions {
  std::string model = "bev";       ///< A name of step_bench_models().
  int64_t threads = 0;             ///< Intra-op threads; 0 = every core.
  int64_t steps = 20;              ///< Timed steps per variant (after warm-up), >= 1.
  int64_t warmup = 3;              ///< Untimed rounds first, >= 0.
  bool json = false;               ///< One JSON object instead of the table.
  std::string selection = "rule";  ///< PTQAT's frozen set: "rule" or "alternate".
};

/// How the PTQAT variant picks its frozen layers (Note [step benchmark]).
enum class StepSelection { kRule, kAlternate };

/// The training variants compared.
enum class StepVariant { kFloat, kQat, kPtqat };

/// "float", "qat", "ptqat".
const char* step_variant_name(StepVariant variant);

/// Runs the benchmark (Note [step benchmark]) and prints a table, or with options.json one JSON
/// object: float_s, qat_s, ptqat_s (median step seconds), float_peak_bytes, qat_peak_bytes,
/// ptqat_peak_bytes, the ratios qat_over_float, ptqat_over_qat, ptqat_peak_over_qat, and
/// selection, trainable_params_qat, trainable_params_ptqat (parameter elements that require
/// grad), threads, steps, warmup, model, plus the median forward / backward / optimizer seconds
/// per variant under "phases". Throws Error when a memory run fails (its exit status and stderr).
void bench_step(const StepBenchOptions& options, std::ostream& out);

/// The memory run of one variant (the hidden `bench step --memory-variant NAME`): sets up
/// `variant`, measures the peak RSS growth of two steps and prints one JSON line with
/// peak_growth_bytes, baseline_rss_bytes and peak_method ("vmhwm", or "sampled" where
/// /proc/self/clear_refs is refused and a thread samples the RSS every millisecond).
void bench_step_memory_run(const StepBenchOptions& options, const std::string& variant,
                           std::ostream& out);

}  // namespace ptqat::bench
