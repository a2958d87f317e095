#include "datasets/augment.h"

#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"

namespace ptqat::datasets {
namespace {

constexpr double kPi = 3.14159265358979323846;

// std::uniform_real_distribution and std::normal_distribution are implementation-defined (the
// same engine gives different values under libstdc++ and libc++), and a run must augment the
// same way wherever it is resumed. So the draws use only std::mt19937_64's output, which the
// standard fixes, through the two transforms below.

/// Uniform in [0, 1): the top 53 bits of one engine output, scaled by 2^-53.
double draw_unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Standard normal by Box-Muller from two uniforms; 1 - u keeps the log's argument in (0, 1].
double draw_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - draw_unit(rng);
  const double u2 = draw_unit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

/// Wraps an angle to [-pi, pi) and stores it as float32. The wrap is done in double; rounding to
/// float can then land just outside the interval (float(pi) > pi, float(-pi) < -pi), so such a
/// value is moved by 2 pi once more, which rounds back inside.
float wrap_yaw(double yaw) {
  double wrapped = yaw - 2.0 * kPi * std::floor((yaw + kPi) / (2.0 * kPi));
  auto result = static_cast<float>(wrapped);
  if (static_cast<double>(result) >= kPi) result = static_cast<float>(result - 2.0 * kPi);
  if (static_cast<double>(result) < -kPi) result = static_cast<float>(result + 2.0 * kPi);
  return result;
}

void check_interval(const std::vector<double>& values, const char* key, bool positive) {
  PTQAT_CHECK(values.size() == 2, ConfigError, "{}: expected 2 values [min, max], got {}", key,
              values.size());
  PTQAT_CHECK(values[0] <= values[1], ConfigError, "{}: expected min <= max, got [{}, {}]", key,
              values[0], values[1]);
  PTQAT_CHECK(!positive || values[0] > 0.0, ConfigError, "{}: expected values > 0, got [{}, {}]",
              key, values[0], values[1]);
}

/// Mirrors and turns the sample's Occ3D grids as the points: x -> -x flips axis 0, y -> -y axis
/// 1, and a counter-clockwise quarter turn (x, y) -> (-y, x) is torch::rot90 over (0, 1).
void transform_occupancy(Sample& sample, const AugmentParams& params) {
  const bool grid_preserving =
      std::abs(params.rotation - params.quarter_turns * kPi / 2.0) < 1e-12 &&
      params.scale == 1.0 && params.translation == std::array<double, 3>{0.0, 0.0, 0.0};
  PTQAT_CHECK(grid_preserving, DataError,
              "sample {}: Occ3D labels allow only flips and quarter turns (augment.rotation = "
              "[0, 0], scale = [1, 1], translation_std = [0, 0, 0], quarter_turns = true), got "
              "rotation {} rad, scale {}",
              sample.token, params.rotation, params.scale);
  for (torch::Tensor* grid :
       {&sample.occ_semantics, &sample.occ_mask_lidar, &sample.occ_mask_camera}) {
    if (!grid->defined()) continue;
    torch::Tensor g = *grid;
    if (params.flip_y) g = g.flip({1});
    if (params.flip_x) g = g.flip({0});
    if (params.quarter_turns % 4 != 0) g = torch::rot90(g, params.quarter_turns, {0, 1});
    *grid = g.contiguous();
  }
}

}  // namespace

void AugmentConfig::visit(core::ConfigVisitor& v) {
  using core::RealRange;
  using core::Stage;
  v.section("augment", [&] {
    v.field({"enabled", "apply global augmentation to training samples", Stage::kFloatTrain},
            enabled);
    v.field({"rotation", "rotation about z, uniform in [min, max] (rad)", Stage::kFloatTrain},
            rotation, RealRange{-kPi, kPi});
    v.field({"scale", "scale factor, uniform in [min, max]", Stage::kFloatTrain}, scale,
            RealRange{0.0, 10.0, true});
    v.field({"flip_x", "mirror the x axis with probability 0.5", Stage::kFloatTrain}, flip_x);
    v.field({"flip_y", "mirror the y axis with probability 0.5", Stage::kFloatTrain}, flip_y);
    v.field({"translation_std", "std of a gaussian translation per axis x, y, z (m)",
             Stage::kFloatTrain},
            translation_std, RealRange{0.0, 100.0});
    v.field({"quarter_turns", "add a rotation by k * 90 degrees, k uniform in 0..3",
             Stage::kFloatTrain},
            quarter_turns);
    v.field({"gt_paste", "paste objects of the ground-truth database (GT-paste)", Stage::kFloatTrain},
            gt_paste);
    v.field({"gt_database", "the database file `ptqat data gtdb` wrote", Stage::kNone}, gt_database);
    v.field({"gt_paste_counts", "GT-paste: objects wanted per sample, per detection class",
             Stage::kFloatTrain},
            gt_paste_counts, core::IntRange{0, 100});
  });
}

void validate_grid_preserving(const AugmentConfig& config) {
  if (!config.enabled) return;
  const bool grid_preserving = config.rotation == std::vector<double>{0.0, 0.0} &&
                               config.scale == std::vector<double>{1.0, 1.0} &&
                               config.translation_std == std::vector<double>{0.0, 0.0, 0.0};
  PTQAT_CHECK(grid_preserving, ConfigError,
              "augment: data.occupancy = true allows only flips and quarter turns (expected "
              "augment.rotation = [0, 0], scale = [1, 1], translation_std = [0, 0, 0]), got "
              "rotation [{}], scale [{}], translation_std [{}]",
              fmt::join(config.rotation, ", "), fmt::join(config.scale, ", "),
              fmt::join(config.translation_std, ", "));
}

void validate(const AugmentConfig& config) {
  check_interval(config.rotation, "augment.rotation", false);
  check_interval(config.scale, "augment.scale", true);
  PTQAT_CHECK(config.translation_std.size() == 3, ConfigError,
              "augment.translation_std: expected 3 values (x, y, z), got {}",
              config.translation_std.size());
  for (double std_dev : config.translation_std) {
    PTQAT_CHECK(std_dev >= 0.0, ConfigError,
                "augment.translation_std: expected values >= 0, got {}", std_dev);
  }
  PTQAT_CHECK(config.gt_paste_counts.size() == static_cast<size_t>(kNumDetectionClasses), ConfigError,
              "augment.gt_paste_counts: expected {} counts (one per detection class), got {}",
              kNumDetectionClasses, config.gt_paste_counts.size());
  PTQAT_CHECK(!config.gt_paste || !config.gt_database.empty(), ConfigError,
              "augment.gt_database: expected the database file (`ptqat data gtdb`) when "
              "augment.gt_paste is true");
}

AugmentParams draw_augmentation(const AugmentConfig& config, std::mt19937_64& rng) {
  AugmentParams params;
  if (!config.enabled) return params;
  validate(config);
  // Every value is drawn whether or not its transform is on (a fixed 11 engine calls), so
  // switching a flip off does not shift the rotation or scale drawn for the same sample. The
  // quarter turn came later and is drawn last, so the earlier values did not move.
  const bool flip_x = draw_unit(rng) < 0.5;
  const bool flip_y = draw_unit(rng) < 0.5;
  const double rotation_u = draw_unit(rng);
  const double scale_u = draw_unit(rng);
  params.flip_x = config.flip_x && flip_x;
  params.flip_y = config.flip_y && flip_y;
  params.rotation = config.rotation[0] + (config.rotation[1] - config.rotation[0]) * rotation_u;
  params.scale = config.scale[0] + (config.scale[1] - config.scale[0]) * scale_u;
  for (size_t axis = 0; axis < 3; ++axis) {
    params.translation[axis] = config.translation_std[axis] * draw_normal(rng);
  }
  const auto turns = static_cast<int>(draw_unit(rng) * 4.0);
  if (config.quarter_turns) {
    params.quarter_turns = turns;
    params.rotation += turns * kPi / 2.0;
  }
  return params;
}

void apply_augmentation(Sample& sample, const AugmentParams& params) {
  if (sample.occ_semantics.defined()) transform_occupancy(sample, params);
  // Flip, rotation and scale act on xy as one linear map M = k * R(a) * F, F = diag(fx, fy);
  // z is only scaled. Composing first keeps points, centres and velocities on the same map.
  const double fx = params.flip_x ? -1.0 : 1.0;
  const double fy = params.flip_y ? -1.0 : 1.0;
  // Quarter turns exactly: cos(pi / 2) in floating point is 6e-17, not 0.
  const double free_rotation = params.rotation - params.quarter_turns * kPi / 2.0;
  const double quarter_cos[4] = {1, 0, -1, 0}, quarter_sin[4] = {0, 1, 0, -1};
  const int turn = ((params.quarter_turns % 4) + 4) % 4;
  const double fc = std::cos(free_rotation), fs = std::sin(free_rotation);
  const double c = fc * quarter_cos[turn] - fs * quarter_sin[turn];
  const double s = fs * quarter_cos[turn] + fc * quarter_sin[turn];
  const double k = params.scale;
  const double m00 = k * c * fx, m01 = -k * s * fy;
  const double m10 = k * s * fx, m11 = k * c * fy;
  const auto [tx, ty, tz] = params.translation;

  if (sample.points.defined() && sample.points.numel() > 0) {
    PTQAT_CHECK(sample.points.dim() == 2 && sample.points.size(1) >= 3 &&
                    sample.points.scalar_type() == torch::kFloat32,
                DataError, "sample {}: expected points [N, C>=3] float32, got {} {}", sample.token,
                c10::str(sample.points.sizes()), c10::toString(sample.points.scalar_type()));
    torch::Tensor points = sample.points.clone(at::MemoryFormat::Contiguous);
    const int64_t rows = points.size(0), cols = points.size(1);
    float* data = points.data_ptr<float>();
    for (int64_t i = 0; i < rows; ++i) {
      float* p = data + i * cols;
      const double x = p[0], y = p[1], z = p[2];
      p[0] = static_cast<float>(m00 * x + m01 * y + tx);
      p[1] = static_cast<float>(m10 * x + m11 * y + ty);
      p[2] = static_cast<float>(k * z + tz);
    }
    sample.points = points;
  }

  torch::Tensor& box_tensor = sample.boxes.boxes;
  if (box_tensor.defined() && box_tensor.numel() > 0) {
    PTQAT_CHECK(box_tensor.dim() == 2 && box_tensor.size(1) == 9 &&
                    box_tensor.scalar_type() == torch::kFloat32,
                DataError, "sample {}: expected boxes [M, 9] float32, got {} {}", sample.token,
                c10::str(box_tensor.sizes()), c10::toString(box_tensor.scalar_type()));
    torch::Tensor boxes = box_tensor.clone(at::MemoryFormat::Contiguous);
    float* data = boxes.data_ptr<float>();
    for (int64_t i = 0; i < boxes.size(0); ++i) {
      float* b = data + i * 9;  // x, y, z, w, l, h, yaw, vx, vy (datasets/sample.h)
      const double x = b[0], y = b[1], z = b[2];
      b[0] = static_cast<float>(m00 * x + m01 * y + tx);
      b[1] = static_cast<float>(m10 * x + m11 * y + ty);
      b[2] = static_cast<float>(k * z + tz);
      for (int j = 3; j < 6; ++j) b[j] = static_cast<float>(k * b[j]);
      // The heading (cos yaw, sin yaw) maps under F to the angle -yaw (flip_y) or pi - yaw
      // (flip_x), both flips give pi + yaw; R adds a, and the scale leaves the angle alone.
      double yaw = b[6];
      if (params.flip_y) yaw = -yaw;
      if (params.flip_x) yaw = kPi - yaw;
      b[6] = wrap_yaw(yaw + params.rotation);
      // Velocities are vectors: the same linear map, no translation. A NaN velocity (devkit: none
      // available) stays NaN because NaN propagates through the products.
      const double vx = b[7], vy = b[8];
      b[7] = static_cast<float>(m00 * vx + m01 * vy);
      b[8] = static_cast<float>(m10 * vx + m11 * vy);
    }
    box_tensor = boxes;
  }
}

}  // namespace ptqat::datasets
