#pragma once
// The numpy and Python operations whose exact semantics the nuScenes detection metric depends
// on (docs/nuscenes.md section 6), ported so that the metric reproduces the devkit's float64 numbers.
//
// Note [numpy interp on repeated xp]: recall values repeat after every false positive, so the
// devkit calls numpy.interp with runs of equal xp. numpy then uses the LAST index j with
// xp[j] <= x; the result is fp[j] when xp[j] == x, otherwise the line between j and j + 1.
// The choice of j is observable (an unmatched prediction ranked below every match lowers the
// precision at recall 1), so the port follows numpy's compiled_base.c arr_interp to the letter.

#include <cstddef>
#include <optional>
#include <vector>

namespace ptqat::tasks::detection {

/// numpy.interp(x, xp, fp, left, right) for float64: xp non-decreasing (runs of equal values
/// allowed), x in any order. `left` defaults to fp.front() and `right` to fp.back(), as in
/// numpy. A NaN x gives NaN. xp and fp must have the same, non-zero length.
std::vector<double> numpy_interp(const std::vector<double>& x, const std::vector<double>& xp,
                                 const std::vector<double>& fp,
                                 std::optional<double> left = std::nullopt,
                                 std::optional<double> right = std::nullopt);

/// The devkit's algo.cummean: running mean that skips NaNs. All NaN gives all ones; a position
/// before the first non-NaN value gives 0 (not NaN).
std::vector<double> cummean_nan(const std::vector<double>& x);

/// numpy.sum of float64 values: numpy's pairwise summation (8-way unrolled blocks of up to 128,
/// split in halves above), so that means agree with the devkit to the last bits.
double numpy_sum(const double* values, size_t count);
/// numpy.mean: numpy_sum / count (NaN for an empty range).
double numpy_mean(const double* values, size_t count);
double numpy_mean(const std::vector<double>& values);
/// numpy.nanmean: NaNs replaced by 0 and summed, divided by the number of non-NaN values (NaN
/// when every value is NaN).
double numpy_nanmean(const std::vector<double>& values);

/// numpy.linspace(0, 1, count): i * (1 / (count - 1)), the last value exactly 1.
std::vector<double> unit_linspace(size_t count);

/// Python's float `%` (also numpy.remainder): the result has the sign of `divisor`.
double python_mod(double value, double divisor);

/// The devkit's eval/common/utils.py angle_diff: (x - y + period/2) % period - period/2, then
/// shifted from (pi, 2 pi] to (-pi, 0]. Radians.
double angle_diff(double x, double y, double period);

}  // namespace ptqat::tasks::detection
