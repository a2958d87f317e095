#pragma once
// The statistics of a report (docs/sweeps.md "Reports"): values over seeds, and paired
// differences with a Student-t confidence interval.

#include <cstddef>
#include <vector>

namespace ptqat::results {

/// A value over seeds: mean, sample standard deviation (0 for one seed), count.
struct SeedStats {
  double mean = 0;
  double stddev = 0;
  size_t count = 0;
};
SeedStats seed_stats(const std::vector<double>& values);

/// Paired differences d_i = a_i - b_i (same float model, same fine-tune seed): their mean, sample
/// standard deviation and count, and the two-sided confidence interval of the mean,
/// mean ± t(1 - (1 - level) / 2, n - 1) * stddev / sqrt(n). With one pair the interval is
/// unknown (low = high = mean, has_interval false).
struct PairedStats {
  SeedStats differences;
  double low = 0;
  double high = 0;
  bool has_interval = false;
};
PairedStats paired_stats(const std::vector<double>& differences, double level = 0.95);

/// The p-quantile of Student's t distribution with `degrees` degrees of freedom (p in (0, 1)).
double student_t_quantile(double p, double degrees);

}  // namespace ptqat::results
