#include "quant/observer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/error.h"

// Note [Observer histograms]
// The percentile and MSE calibrators need a histogram, but the range of the data grows while
// batches arrive and differs between ranks. Each channel's histogram therefore spans a
// power-of-two range R = 2^e, the smallest one strictly above the largest |x| seen so far:
// bins of width R/B over [0, R) for |x| (symmetric specs), or 2R/B over [-R, R) for x
// (asymmetric; B even so that 0 is a bin edge). When the range grows from 2^e to 2^(e+k), every
// old bin lies inside exactly one new bin (2^k old bins merge into one), so re-binning is exact,
// and the bin of a value is floor(x * B / R) (+ B/2), a scaling by a power of two: the histogram
// is the same whatever the batch order, and ranks that agree on the largest |x| (all_reduce_max)
// have aligned bins, so summing them equals observing all the data on one rank. The price: at
// most half the bins of a channel are above its largest |x|, i.e. at least B/2 bins of resolution
// (B/4 on the smaller side of an asymmetric range).

namespace ptqat::quant {
namespace {

// Range exponent of a channel that has seen only zeros: any later range is "much larger", so
// every old count (all at 0) lands in the bin of 0.
constexpr int64_t kEmptyRangeExp = -100000;
// Re-binning by 2^k with k this large puts every old bin into the bin of 0.
constexpr int64_t kMaxShift = 62;

int64_t range_exponent(double abs_max) {
  if (abs_max <= 0.0) return kEmptyRangeExp;
  int e = 0;
  std::frexp(abs_max, &e);  // abs_max = f * 2^e with f in [0.5, 1): abs_max < 2^e.
  return e;
}

int64_t floor_div_pow2(int64_t value, int64_t shift) {
  if (shift >= kMaxShift) return value < 0 ? -1 : 0;
  // Arithmetic right shift floors toward -infinity (guaranteed since C++20, and what GCC does).
  return value >> shift;
}

// Returns x reshaped to [C, N]: slices along the channel axis, or the whole tensor as one row.
torch::Tensor as_channel_rows(const torch::Tensor& x, const QuantSpec& spec) {
  if (!spec.per_channel) return x.reshape({1, -1});
  return x.movedim(spec.axis, 0).reshape({x.size(spec.axis), -1});
}

}  // namespace

std::pair<float, int32_t> range_to_params(double lo, double hi, const QuantSpec& spec) {
  const double qmin = static_cast<double>(spec.quant_min());
  const double qmax = static_cast<double>(spec.quant_max());
  lo = std::min(lo, 0.0);  // The range must hold 0 exactly (zero padding, ReLU outputs).
  hi = std::max(hi, 0.0);
  if (spec.symmetric) {
    const float scale = std::max(static_cast<float>(std::max(-lo, hi) / qmax), kMinObserverScale);
    return {scale, 0};
  }
  const float scale = std::max(static_cast<float>((hi - lo) / (qmax - qmin)), kMinObserverScale);
  // With the float scale the kernels use, so that lo maps onto the grid's lowest code.
  const double zero_point = std::clamp(qmin - std::nearbyint(lo / scale), qmin, qmax);
  return {scale, static_cast<int32_t>(zero_point)};
}

Observer::Observer(QuantSpec spec, ObserverKind kind, ObserverOptions options)
    : spec_(spec), kind_(kind), options_(options) {
  spec_.validate();
  PTQAT_CHECK(options_.ema_momentum > 0.0 && options_.ema_momentum <= 1.0, ConfigError,
              "observer.ema_momentum: expected a value in (0, 1], got {}", options_.ema_momentum);
  PTQAT_CHECK(options_.percentile > 0.0 && options_.percentile <= 100.0, ConfigError,
              "observer.percentile: expected a value in (0, 100], got {}", options_.percentile);
  PTQAT_CHECK(options_.histogram_bins >= 2 && options_.histogram_bins % 2 == 0, ConfigError,
              "observer.histogram_bins: expected an even number >= 2, got {}",
              options_.histogram_bins);
  PTQAT_CHECK(options_.mse_candidates >= 1, ConfigError,
              "observer.mse_candidates: expected a number >= 1, got {}", options_.mse_candidates);
}

void Observer::init_channels(int64_t channels) {
  channels_ = channels;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  min_ = torch::full({channels}, std::numeric_limits<double>::infinity(), f64);
  max_ = torch::full({channels}, -std::numeric_limits<double>::infinity(), f64);
  if (kind_ == ObserverKind::kPercentile || kind_ == ObserverKind::kMse) {
    histogram_ = torch::zeros({channels, options_.histogram_bins}, f64);
    range_exp_.assign(static_cast<size_t>(channels), kEmptyRangeExp);
  }
}

void Observer::observe(const torch::Tensor& x) {
  PTQAT_CHECK(x.defined() && x.is_floating_point() && x.numel() > 0, DataError,
              "observer: expected a non-empty floating tensor, got {}",
              x.defined() ? std::string(x.toString()) : std::string("undefined"));
  if (spec_.per_channel) {
    PTQAT_CHECK(spec_.axis < x.dim(), DataError,
                "observer: per-channel axis {} out of range for a tensor of {} dimensions",
                spec_.axis, x.dim());
  }
  const torch::Tensor rows = as_channel_rows(x.detach(), spec_);
  if (channels_ == 0) init_channels(rows.size(0));
  PTQAT_CHECK(rows.size(0) == channels_, DataError,
              "observer: expected {} channels along axis {}, got {}", channels_, spec_.axis,
              rows.size(0));

  const torch::Tensor batch_min = std::get<0>(rows.min(1)).to(torch::kCPU, torch::kFloat64);
  const torch::Tensor batch_max = std::get<0>(rows.max(1)).to(torch::kCPU, torch::kFloat64);
  PTQAT_CHECK(torch::isfinite(batch_min).all().item<bool>() &&
                  torch::isfinite(batch_max).all().item<bool>(),
              DataError, "observer: calibration batch holds non-finite values");

  if (batches_ == 0 || kind_ != ObserverKind::kRunningMinMax) {
    // The first batch initialises the moving average too.
    min_ = torch::minimum(min_, batch_min);
    max_ = torch::maximum(max_, batch_max);
  } else {
    min_ += options_.ema_momentum * (batch_min - min_);
    max_ += options_.ema_momentum * (batch_max - max_);
  }
  ++batches_;

  if (histogram_.defined()) {
    rebin_to_range();
    add_to_histogram(rows.to(torch::kCPU, torch::kFloat64));
  }
}

void Observer::rebin_to_range() {
  const int64_t bins = options_.histogram_bins;
  const int64_t half = bins / 2;
  const auto min_a = min_.accessor<double, 1>();
  const auto max_a = max_.accessor<double, 1>();
  auto hist = histogram_.accessor<double, 2>();
  std::vector<double> merged(static_cast<size_t>(bins));
  for (int64_t c = 0; c < channels_; ++c) {
    const int64_t new_exp = range_exponent(std::max(max_a[c], -min_a[c]));
    const int64_t old_exp = range_exp_[c];
    if (new_exp <= old_exp) continue;
    range_exp_[c] = new_exp;
    const int64_t shift = new_exp - old_exp;
    std::fill(merged.begin(), merged.end(), 0.0);
    for (int64_t i = 0; i < bins; ++i) {
      if (hist[c][i] == 0.0) continue;
      // Exact merge, Note [Observer histograms]: old bin i lies in new bin j.
      const int64_t j =
          spec_.symmetric ? floor_div_pow2(i, shift) : half + floor_div_pow2(i - half, shift);
      merged[j] += hist[c][i];
    }
    for (int64_t i = 0; i < bins; ++i) hist[c][i] = merged[i];
  }
}

void Observer::add_to_histogram(const torch::Tensor& values) {
  const int64_t bins = options_.histogram_bins;
  std::vector<double> per_unit(static_cast<size_t>(channels_));
  for (int64_t c = 0; c < channels_; ++c) {
    // An all-zero channel: any finite factor puts its zeros into the bin of 0.
    const double range = range_exp_[c] == kEmptyRangeExp ? 1.0 : hist_range(c);
    per_unit[c] = static_cast<double>(spec_.symmetric ? bins : bins / 2) / range;
  }
  const torch::Tensor factor = torch::tensor(per_unit, torch::dtype(torch::kFloat64)).unsqueeze(1);
  torch::Tensor index = spec_.symmetric ? (values.abs() * factor).floor()
                                        : (values * factor).floor() + static_cast<double>(bins / 2);
  index = index.clamp(0, static_cast<double>(bins - 1)).to(torch::kInt64);
  index += torch::arange(channels_, torch::kInt64).unsqueeze(1) * bins;
  histogram_ += torch::bincount(index.reshape({-1}), {}, channels_ * bins)
                    .to(torch::kFloat64)
                    .reshape({channels_, bins});
}

double Observer::hist_range(int64_t c) const {
  return range_exp_[c] == kEmptyRangeExp ? 0.0 : std::ldexp(1.0, static_cast<int>(range_exp_[c]));
}

void Observer::reduce(core::Collective& group) {
  if (channels_ == 0) {
    PTQAT_CHECK(!spec_.per_channel, Error,
                "observer: reduce() before any observe() on a per-channel observer (the channel "
                "count is unknown on rank {})",
                group.rank());
    init_channels(1);
  }
  // One collective for both ends: max over ranks of max and of -min.
  const torch::Tensor ends = torch::stack({max_, -min_}).contiguous();
  group.all_reduce_max(ends);
  max_ = ends[0].clone();
  min_ = -ends[1];
  if (histogram_.defined()) {
    rebin_to_range();  // Every rank now has the same range exponents: aligned bins.
    group.all_reduce_sum(histogram_);
  }
}

std::pair<double, double> Observer::percentile_range(int64_t c) const {
  const int64_t bins = options_.histogram_bins;
  const auto hist = histogram_.accessor<double, 2>();
  double total = 0.0;
  for (int64_t i = 0; i < bins; ++i) total += hist[c][i];
  // The position (in bins, interpolated linearly inside a bin) below which a fraction q of the
  // counts lies.
  const auto quantile_position = [&](double q) {
    const double target = q * total;
    double below = 0.0;
    for (int64_t i = 0; i < bins; ++i) {
      const double count = hist[c][i];
      if (count > 0.0 && below + count >= target) {
        return static_cast<double>(i) + std::max(target - below, 0.0) / count;
      }
      below += count;
    }
    return static_cast<double>(bins);
  };
  const double q = options_.percentile / 100.0;
  const double lo_seen = min_[c].item<double>();
  const double hi_seen = max_[c].item<double>();
  if (spec_.symmetric) {
    const double width = hist_range(c) / static_cast<double>(bins);
    const double clip = std::min(quantile_position(q) * width, std::max(-lo_seen, hi_seen));
    return {-clip, clip};
  }
  const double width = 2.0 * hist_range(c) / static_cast<double>(bins);
  const double start = -hist_range(c);
  const double lo = std::max(start + quantile_position(1.0 - q) * width, lo_seen);
  const double hi = std::min(start + quantile_position(q) * width, hi_seen);
  return {std::min(lo, hi), hi};
}

std::pair<double, double> Observer::mse_range(int64_t c) const {
  const int64_t bins = options_.histogram_bins;
  const auto hist = histogram_.accessor<double, 2>();
  const double lo_seen = min_[c].item<double>();
  const double hi_seen = max_[c].item<double>();
  // Bin centres and counts of the non-empty bins: the error is evaluated on those only. The
  // symmetric histogram holds |x|, so the error of -x is taken as that of +x (exact on a narrow
  // grid, an approximation for the one extra negative code of a full signed grid).
  const double range = hist_range(c);
  const double width = (spec_.symmetric ? range : 2.0 * range) / static_cast<double>(bins);
  const double start = spec_.symmetric ? 0.0 : -range;
  std::vector<std::pair<double, double>> centres;
  for (int64_t i = 0; i < bins; ++i) {
    if (hist[c][i] > 0.0) {
      centres.emplace_back(start + (static_cast<double>(i) + 0.5) * width, hist[c][i]);
    }
  }
  const double qmin = static_cast<double>(spec_.quant_min());
  const double qmax = static_cast<double>(spec_.quant_max());
  const int64_t n = options_.mse_candidates;
  std::pair<double, double> best{lo_seen, hi_seen};
  double best_error = std::numeric_limits<double>::infinity();
  // From ratio 1.0 (min-max) down, keeping a candidate only when strictly better: ties go to the
  // wider range.
  for (int64_t k = n - 1; k >= 0; --k) {
    const double ratio = n == 1 ? 1.0 : 0.01 + 0.99 * static_cast<double>(k) / (n - 1);
    const double lo = ratio * lo_seen;
    const double hi = ratio * hi_seen;
    const auto [scale, zero_point] = range_to_params(lo, hi, spec_);
    // As the kernels: multiply by the float reciprocal, round half to even, clamp.
    const double inv_scale = static_cast<double>(1.0f / scale);
    double error = 0.0;
    for (const auto& [x, count] : centres) {
      const double q = std::clamp(std::nearbyint(x * inv_scale) + zero_point, qmin, qmax);
      const double diff = (q - zero_point) * scale - x;
      error += count * diff * diff;
    }
    if (error < best_error) {
      best_error = error;
      best = {lo, hi};
    }
  }
  return best;
}

QuantParams Observer::compute() const {
  PTQAT_CHECK(batches_ > 0 || channels_ > 0, Error,
              "observer: compute() before any calibration batch was observed");
  torch::Tensor scale = torch::empty({channels_}, torch::kFloat32);
  torch::Tensor zero_point = torch::empty({channels_}, torch::kInt32);
  auto scale_a = scale.accessor<float, 1>();
  auto zero_point_a = zero_point.accessor<int32_t, 1>();
  const auto min_a = min_.accessor<double, 1>();
  const auto max_a = max_.accessor<double, 1>();
  for (int64_t c = 0; c < channels_; ++c) {
    std::pair<double, double> range{min_a[c], max_a[c]};
    if (kind_ == ObserverKind::kPercentile) range = percentile_range(c);
    if (kind_ == ObserverKind::kMse) range = mse_range(c);
    if (!std::isfinite(range.first) || !std::isfinite(range.second)) range = {0.0, 0.0};
    const auto [s, zp] = range_to_params(range.first, range.second, spec_);
    scale_a[c] = s;
    zero_point_a[c] = zp;
  }
  return {scale, zero_point};
}

}  // namespace ptqat::quant
