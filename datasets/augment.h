#pragma once
// Global augmentation of one sample: random flips, rotation about z, scaling and translation,
// applied consistently to the LiDAR points, the box centres, sizes, yaws and velocities, so that
// boxes and points stay consistent under any combination.
//
// Occ3D grids (Sample::occ_*) live in the ego frame on a fixed voxel grid: only the
// transforms that map the grid onto itself (flips, quarter turns) apply to them, and a sample
// with a grid refuses any other.

#include <torch/torch.h>

#include <array>
#include <random>
#include <vector>

#include "core/config.h"
#include "datasets/sample.h"

namespace ptqat::datasets {

/// Which global augmentations training draws per sample (config section "augment").
struct AugmentConfig {
  bool enabled = true;
  /// Rotation angle about z, uniform in [min, max] (rad).
  std::vector<double> rotation = {-0.785398, 0.785398};
  /// Scale factor, uniform in [min, max], both > 0.
  std::vector<double> scale = {0.95, 1.05};
  /// Mirror the x axis (x -> -x) with probability 0.5.
  bool flip_x = true;
  /// Mirror the y axis (y -> -y) with probability 0.5.
  bool flip_y = true;
  /// Standard deviation of a gaussian translation per axis x, y, z (m).
  std::vector<double> translation_std = {0.0, 0.0, 0.0};
  /// Add a rotation by k * 90 degrees, k uniform in 0..3 (maps the Occ3D grid onto itself).
  bool quarter_turns = false;
  /// GT-paste (datasets/gt_paste.h) from the database `gt_database` (`ptqat data gtdb`), before
  /// the other transforms; `gt_paste_counts` objects wanted per class (kDetectionNames order).
  bool gt_paste = false;
  std::string gt_database;
  std::vector<int64_t> gt_paste_counts = {2, 3, 7, 4, 6, 2, 6, 6, 2, 2};

  void visit(core::ConfigVisitor& v);
};

/// Checks what the per-field ranges cannot: rotation and scale hold [min, max] with
/// min <= max, translation_std holds 3 values. Throws a ConfigError naming the key
/// ("augment.rotation: expected ..., got ..."). Call after reading the config.
void validate(const AugmentConfig& config);

/// Checks that an enabled augmentation maps an Occ3D grid onto itself (flips and quarter turns
/// only), as data.occupancy = true needs; throws a ConfigError naming the offending keys. Found
/// when the config is read rather than at the first training sample.
void validate_grid_preserving(const AugmentConfig& config);

/// One drawn augmentation. Identity: rotation 0, scale 1, no flips, zero translation.
struct AugmentParams {
  double rotation = 0.0;  ///< rad, counter-clockwise about z, quarter turns included
  int quarter_turns = 0;  ///< the part of `rotation` that is k * 90 degrees, k in 0..3
  double scale = 1.0;
  bool flip_x = false;
  bool flip_y = false;
  std::array<double, 3> translation = {0.0, 0.0, 0.0};  ///< m
};

/// Draws one augmentation from `rng`. The values depend only on the engine's state and the
/// config, identically on every standard library; disabled -> identity without drawing.
/// Every enabled config consumes the same number of draws, so toggling one transform does not
/// change the values drawn for the others. Throws ConfigError where validate(config) would.
AugmentParams draw_augmentation(const AugmentConfig& config, std::mt19937_64& rng);

/// Applies `params` to `sample` in the order flip, rotation, scale, translation:
///  - flip_y: y -> -y, yaw -> -yaw, vy -> -vy; flip_x: x -> -x, yaw -> pi - yaw, vx -> -vx;
///  - rotation a: xy of points, box centres and velocities rotated counter-clockwise, yaw += a;
///  - scale s: point xyz, box centres, w, l, h and velocities times s;
///  - translation: added to point xyz and box centres.
/// Yaws are wrapped to [-pi, pi); NaN velocities stay NaN; point columns after xyz and
/// point_labels are unchanged. Occ3D grids ([ix, iy, iz], centred on the origin) are mirrored and
/// turned with the points: DataError naming the sample when `params` hold a rotation other than
/// the quarter turns, a scale or a translation, which would move voxels off the grid. The points and boxes tensors are replaced by new ones, never
/// written in place, so a sample shared with a cache keeps its original values.
void apply_augmentation(Sample& sample, const AugmentParams& params);

}  // namespace ptqat::datasets
