#include "tasks/detection/numpy_semantics.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace ptqat::tasks::detection {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// numpy's binary_search_with_guess without the guess: on a non-decreasing `xp`, every path of
/// the original returns the last index j with xp[j] <= key, -1 below the range and len above.
std::ptrdiff_t last_not_greater(double key, const std::vector<double>& xp) {
  const auto len = static_cast<std::ptrdiff_t>(xp.size());
  if (key > xp[static_cast<size_t>(len - 1)]) return len;
  if (key < xp[0]) return -1;
  std::ptrdiff_t low = 0, high = len;  // bisection for the first index with xp > key
  while (low < high) {
    const std::ptrdiff_t mid = low + ((high - low) >> 1);
    if (key >= xp[static_cast<size_t>(mid)]) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low - 1;
}

}  // namespace

std::vector<double> numpy_interp(const std::vector<double>& x, const std::vector<double>& xp,
                                 const std::vector<double>& fp, std::optional<double> left,
                                 std::optional<double> right) {
  PTQAT_ASSERT(!xp.empty() && xp.size() == fp.size(), "numpy_interp: xp has {} values, fp {}",
               xp.size(), fp.size());
  const double left_value = left.value_or(fp.front());
  const double right_value = right.value_or(fp.back());
  const size_t len = xp.size();
  std::vector<double> out(x.size());
  if (len == 1) {
    // numpy's special case (no NaN test: a NaN x compares false both ways and gives fp[0]).
    for (size_t i = 0; i < x.size(); ++i) {
      out[i] = x[i] < xp[0] ? left_value : (x[i] > xp[0] ? right_value : fp[0]);
    }
    return out;
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const double value = x[i];
    if (std::isnan(value)) {
      out[i] = value;
      continue;
    }
    const std::ptrdiff_t j = last_not_greater(value, xp);
    if (j == -1) {
      out[i] = left_value;
    } else if (j == static_cast<std::ptrdiff_t>(len)) {
      out[i] = right_value;
    } else if (j == static_cast<std::ptrdiff_t>(len - 1)) {
      out[i] = fp[len - 1];
    } else {
      const auto k = static_cast<size_t>(j);
      if (xp[k] == value) {
        out[i] = fp[k];  // numpy: "avoid potential non-finite interpolation"
        continue;
      }
      const double slope = (fp[k + 1] - fp[k]) / (xp[k + 1] - xp[k]);
      out[i] = slope * (value - xp[k]) + fp[k];
      if (std::isnan(out[i])) {  // numpy: if we get NaN in one direction, try the other
        out[i] = slope * (value - xp[k + 1]) + fp[k + 1];
        if (std::isnan(out[i]) && fp[k] == fp[k + 1]) out[i] = fp[k];
      }
    }
  }
  return out;
}

std::vector<double> cummean_nan(const std::vector<double>& x) {
  size_t nan_count = 0;
  for (const double value : x) nan_count += std::isnan(value) ? 1 : 0;
  if (nan_count == x.size()) return std::vector<double>(x.size(), 1.0);
  // np.nancumsum is a sequential running sum with NaN read as 0; positions whose non-NaN count
  // is still 0 keep the zeros of `out=np.zeros_like(...)`.
  std::vector<double> out(x.size(), 0.0);
  double sum = 0;
  int64_t count = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isnan(x[i])) {
      sum += x[i];
      ++count;
    }
    if (count != 0) out[i] = sum / static_cast<double>(count);
  }
  return out;
}

double numpy_sum(const double* values, size_t count) {
  // numpy/core/src/umath/loops_utils.h.src pairwise_sum, applied by np.add.reduce after its
  // identity 0.
  constexpr size_t kBlock = 128;
  if (count < 8) {
    double sum = 0.;
    for (size_t i = 0; i < count; ++i) sum += values[i];
    return sum;
  }
  if (count <= kBlock) {
    double r[8];
    for (size_t j = 0; j < 8; ++j) r[j] = values[j];
    size_t i = 8;
    for (; i < count - (count % 8); i += 8) {
      for (size_t j = 0; j < 8; ++j) r[j] += values[i + j];
    }
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < count; ++i) sum += values[i];
    return sum;
  }
  size_t half = count / 2;
  half -= half % 8;
  return numpy_sum(values, half) + numpy_sum(values + half, count - half);
}

double numpy_mean(const double* values, size_t count) {
  if (count == 0) return kNaN;
  return (0.0 + numpy_sum(values, count)) / static_cast<double>(count);
}

double numpy_mean(const std::vector<double>& values) {
  return numpy_mean(values.data(), values.size());
}

double numpy_nanmean(const std::vector<double>& values) {
  std::vector<double> zeroed(values.size());
  size_t count = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const bool nan = std::isnan(values[i]);
    zeroed[i] = nan ? 0.0 : values[i];
    count += nan ? 0 : 1;
  }
  if (count == 0) return kNaN;
  return (0.0 + numpy_sum(zeroed.data(), zeroed.size())) / static_cast<double>(count);
}

std::vector<double> unit_linspace(size_t count) {
  PTQAT_ASSERT(count >= 2, "unit_linspace needs at least 2 points, got {}", count);
  const double step = 1.0 / static_cast<double>(count - 1);
  std::vector<double> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<double>(i) * step + 0.0;
  out[count - 1] = 1.0;
  return out;
}

double python_mod(double value, double divisor) {
  // CPython float_rem / numpy npy_divmod: fmod is exact; move the result to the divisor's side.
  double mod = std::fmod(value, divisor);
  if (mod != 0) {
    if ((divisor < 0) != (mod < 0)) mod += divisor;
  } else {
    mod = std::copysign(0.0, divisor);
  }
  return mod;
}

double angle_diff(double x, double y, double period) {
  double diff = python_mod(x - y + period / 2, period) - period / 2;
  if (diff > M_PI) diff -= 2 * M_PI;
  return diff;
}

}  // namespace ptqat::tasks::detection
