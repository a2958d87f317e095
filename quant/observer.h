#pragma once
// Observers (calibrators): accumulate statistics of the tensors a quantizer sees over calibration
// batches and turn them into a scale and zero point for its QuantSpec. Statistics are reduced
// across ranks through core::Collective so that every rank ends with the same parameters.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/collective.h"
#include "quant/quant_spec.h"

namespace ptqat::quant {

/// How an observer turns statistics into a range.
enum class ObserverKind {
  kMinMax,         ///< Exact minimum and maximum over all batches.
  kRunningMinMax,  ///< Exponential moving average of per-batch min and max (activations).
  kPercentile,     ///< A percentile of the histogram of |x| (symmetric) or x (asymmetric).
  kMse,            ///< Clipping ratio that minimises the histogram's expected quantization MSE.
};

/// Tunables of an observer; validated by the Observer constructor (ConfigError when out of range).
struct ObserverOptions {
  /// kRunningMinMax: weight of the new batch, in (0, 1].
  double ema_momentum = 0.01;
  /// kPercentile: percentile of the histogram kept inside the range, in (0, 100].
  double percentile = 99.99;
  /// kPercentile, kMse: histogram bins per channel, even and >= 2.
  int64_t histogram_bins = 2048;
  /// kMse: number of clipping ratios tried, evenly spaced over [0.01, 1.0]; >= 1 (1: only 1.0).
  int64_t mse_candidates = 100;
};

/// A calibrated scale and zero point, ready for fake_quantize().
struct QuantParams {
  torch::Tensor scale;       ///< float32, [C] per channel or [1] per tensor, > 0.
  torch::Tensor zero_point;  ///< int32, same shape; 0 for symmetric specs.
};

/// Smallest scale an observer returns: a zero range (e.g. an all-zero tensor) gets this instead of
/// 0, so that 1/scale stays finite.
inline constexpr float kMinObserverScale = 1e-8f;

/// Scale and zero point for the range [lo, hi] (widened to include 0), as a min-max observer
/// computes them. Symmetric: scale = max(|lo|, |hi|) / qmax, zero point 0. Asymmetric:
/// scale = (hi - lo) / (qmax - qmin), zero point = qmin - round(lo / scale) clamped to the grid.
/// The scale is at least kMinObserverScale. Returns {scale, zero_point}.
std::pair<float, int32_t> range_to_params(double lo, double hi, const QuantSpec& spec);

/// Accumulates calibration statistics of one quantizer's input and computes its QuantParams.
///
/// Per tensor, or per channel along spec.axis (one set of statistics per slice). kPercentile and
/// kMse keep a histogram per channel; see Note [Observer histograms] in observer.cpp for its
/// power-of-two range, which makes re-binning exact and bins aligned across ranks.
/// Not thread-safe; statistics live on the CPU in float64 whatever the input's device.
class Observer {
 public:
  /// Throws ConfigError when the spec or the options are out of range.
  Observer(QuantSpec spec, ObserverKind kind, ObserverOptions options = {});

  /// Adds one calibration batch (any floating dtype and device). Per channel, x.size(spec.axis)
  /// must be the same in every batch. Throws DataError on non-finite values.
  void observe(const torch::Tensor& x);

  /// Makes every rank's statistics the union over ranks: one all_reduce_max of [max; -min]
  /// ([2, C] float64), then, for histogram kinds, one all_reduce_sum of the histograms re-binned
  /// to the common range ([C, bins] float64). Collective: every rank must call it, after having
  /// observed at least one batch when per channel (the channel count must be known).
  /// For kRunningMinMax the result is the max of the ranks' moving averages.
  void reduce(core::Collective& group);

  /// The scale and zero point for the statistics so far. Throws Error before any observe().
  QuantParams compute() const;

  /// Batches observed on this rank.
  int64_t batches_observed() const { return batches_; }
  /// The per-channel histograms, [C, bins] float64 (undefined for min-max kinds).
  const torch::Tensor& histogram() const { return histogram_; }

 private:
  void init_channels(int64_t channels);
  void rebin_to_range();
  void add_to_histogram(const torch::Tensor& values);
  double hist_range(int64_t c) const;
  std::pair<double, double> percentile_range(int64_t c) const;
  std::pair<double, double> mse_range(int64_t c) const;

  QuantSpec spec_;
  ObserverKind kind_;
  ObserverOptions options_;
  int64_t channels_ = 0;  ///< 0 until the first batch (or reduce()) fixes it.
  int64_t batches_ = 0;
  torch::Tensor min_;        ///< [C] float64.
  torch::Tensor max_;        ///< [C] float64.
  torch::Tensor histogram_;  ///< [C, bins] float64 counts; histogram kinds only.
  /// Per channel: the histogram spans |x| in [0, 2^e) (symmetric) or x in [-2^e, 2^e).
  std::vector<int64_t> range_exp_;
};

}  // namespace ptqat::quant
