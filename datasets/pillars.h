#pragma once
// Pillar encoding of a point cloud (PointPillars, Lang et al. 2019, section 2.1): points are
// grouped by the vertical column (pillar) of the x-y grid they fall in, and each point is
// decorated with its offsets from the mean of its pillar's points and from the pillar centre.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/config.h"

namespace ptqat::datasets {

/// The pillar grid and its capacity (config section "pillars").
struct PillarConfig {
  /// x_min, y_min, z_min, x_max, y_max, z_max (m, LiDAR frame); points outside are skipped.
  std::vector<double> point_range = {-51.2, -51.2, -5.0, 51.2, 51.2, 3.0};
  /// Pillar extent in x and y (m); must divide the range into a whole number of pillars.
  std::vector<double> pillar_size = {0.2, 0.2};
  /// Points kept per pillar; later points of a full pillar are dropped.
  int64_t max_points_per_pillar = 20;
  /// Pillars kept per sample; points of further pillars are dropped.
  int64_t max_pillars = 30000;

  void visit(core::ConfigVisitor& v);
  /// Pillars along x: (x_max - x_min) / pillar_size[0], rounded.
  int64_t grid_x() const;
  /// Pillars along y: (y_max - y_min) / pillar_size[1], rounded.
  int64_t grid_y() const;
};

/// Checks what the per-field ranges cannot: 6 range values with min < max, 2 sizes > 0, a whole
/// number of pillars per axis (within 1e-6), capacities >= 1 (for configs built in code). Throws a
/// ConfigError naming the key
/// ("pillars.point_range: expected ..., got ..."). Call after reading the config.
void validate(const PillarConfig& config);

/// The pillars of one point cloud; P is the number of non-empty pillars kept.
struct Pillars {
  /// [P, max_points_per_pillar, C + 5] float32: the point's C input columns, then x, y, z minus
  /// the mean of the pillar's kept points, then x, y minus the pillar centre; zero rows for
  /// empty slots.
  torch::Tensor features;
  /// [P, 2] int64: (iy, ix) grid cell of each pillar.
  torch::Tensor coords;
  /// [P] int64: kept points per pillar, in [1, max_points_per_pillar].
  torch::Tensor num_points;
  /// [N] int64: the pillar row of each input point; -1 when outside the range or dropped.
  torch::Tensor point_pillar;
};

/// Groups `points` ([N, C >= 3] float32, x, y, z first) into pillars. A point is inside when
/// min <= coordinate < max on x, y and z. Pillars are numbered in order of their first point;
/// once max_pillars exist, points of new pillars are dropped, and a pillar keeps its first
/// max_points_per_pillar points. One pass over the points with a per-cell lookup table kept per
/// thread (so concurrent calls from loader threads are safe). Throws ConfigError for an invalid
/// config and DataError for a malformed points tensor.
Pillars pillarize(const torch::Tensor& points, const PillarConfig& config);

}  // namespace ptqat::datasets
