#include "results/statistics.h"

#include <cmath>

#include "core/error.h"

namespace ptqat::results {

SeedStats seed_stats(const std::vector<double>& values) {
  SeedStats result;
  result.count = values.size();
  if (values.empty()) return result;
  double sum = 0;
  for (const double value : values) sum += value;
  result.mean = sum / static_cast<double>(values.size());
  if (values.size() > 1) {
    double squares = 0;
    for (const double value : values) squares += (value - result.mean) * (value - result.mean);
    result.stddev = std::sqrt(squares / static_cast<double>(values.size() - 1));
  }
  return result;
}

PairedStats paired_stats(const std::vector<double>& differences, double level) {
  PairedStats result;
  result.differences = seed_stats(differences);
  result.low = result.high = result.differences.mean;
  const size_t n = result.differences.count;
  if (n < 2) return result;
  const double t = student_t_quantile(1.0 - (1.0 - level) / 2.0, static_cast<double>(n - 1));
  const double half_width = t * result.differences.stddev / std::sqrt(static_cast<double>(n));
  result.low = result.differences.mean - half_width;
  result.high = result.differences.mean + half_width;
  result.has_interval = true;
  return result;
}

namespace {

/// P(0 <= T <= x) for x >= 0: Simpson's rule on the density. Written here rather than taken from
/// Boost.Math or GSL: a report needs this one function, and Boost's headers would triple the
/// offline dependency bundle of GPU nodes (scripts/bundle-deps.sh) while GSL is GPL.
double student_t_mass(double x, double degrees) {
  const double log_norm =
      std::lgamma((degrees + 1) / 2) - std::lgamma(degrees / 2) - 0.5 * std::log(degrees * M_PI);
  const auto density = [&](double t) {
    return std::exp(log_norm - (degrees + 1) / 2 * std::log1p(t * t / degrees));
  };
  constexpr int kIntervals = 4000;  // even; the error is far below the 1e-6 a report prints
  const double h = x / kIntervals;
  double sum = density(0) + density(x);
  for (int i = 1; i < kIntervals; ++i) sum += density(i * h) * (i % 2 == 1 ? 4 : 2);
  return sum * h / 3;
}

}  // namespace

double student_t_quantile(double p, double degrees) {
  PTQAT_ASSERT(p > 0 && p < 1 && degrees > 0, "student_t_quantile({}, {})", p, degrees);
  if (p < 0.5) return -student_t_quantile(1 - p, degrees);
  const double target = p - 0.5;
  double low = 0;
  double high = 1;
  while (student_t_mass(high, degrees) < target) high *= 2;
  for (int i = 0; i < 60; ++i) {  // bisection: 60 halvings reach double precision
    const double middle = (low + high) / 2;
    (student_t_mass(middle, degrees) < target ? low : high) = middle;
  }
  return (low + high) / 2;
}

}  // namespace ptqat::results
