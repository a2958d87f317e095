#include "datasets/augment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/config_toml.h"
#include "core/error.h"

namespace ptqat::datasets {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// A box row in the datasets/sample.h layout: x, y, z, w, l, h, yaw, vx, vy.
using BoxRow = std::array<float, 9>;

Sample make_sample(const std::vector<std::array<float, 5>>& points,
                   const std::vector<BoxRow>& boxes) {
  Sample sample;
  sample.token = "test";
  sample.points = torch::zeros({static_cast<int64_t>(points.size()), 5}, torch::kFloat32);
  for (size_t i = 0; i < points.size(); ++i) {
    for (int j = 0; j < 5; ++j) sample.points[i][j] = points[i][j];
  }
  sample.keyframe_points = sample.points.size(0);
  sample.boxes = SampleBoxes::empty();
  sample.boxes.boxes = torch::zeros({static_cast<int64_t>(boxes.size()), 9}, torch::kFloat32);
  for (size_t i = 0; i < boxes.size(); ++i) {
    for (int j = 0; j < 9; ++j) sample.boxes.boxes[i][j] = boxes[i][j];
  }
  return sample;
}

float at(const torch::Tensor& tensor, int64_t row, int64_t col) {
  return tensor[row][col].item<float>();
}

void expect_point(const Sample& sample, int64_t row, double x, double y, double z) {
  EXPECT_NEAR(at(sample.points, row, 0), x, 1e-5) << "point " << row;
  EXPECT_NEAR(at(sample.points, row, 1), y, 1e-5) << "point " << row;
  EXPECT_NEAR(at(sample.points, row, 2), z, 1e-5) << "point " << row;
}

void expect_box(const Sample& sample, int64_t row, const std::array<double, 9>& expected) {
  for (int j = 0; j < 9; ++j) {
    EXPECT_NEAR(at(sample.boxes.boxes, row, j), expected[j], 1e-5) << "box " << row << " col " << j;
  }
}

AugmentParams params_with(double rotation, double scale, bool flip_x, bool flip_y,
                          std::array<double, 3> translation = {0.0, 0.0, 0.0}) {
  AugmentParams params;
  params.rotation = rotation;
  params.scale = scale;
  params.flip_x = flip_x;
  params.flip_y = flip_y;
  params.translation = translation;
  return params;
}

/// The 8 corners of a box as the nuScenes devkit computes them (Box.corners): length along the
/// box's own x axis, width along y, rotated by yaw about z, then moved to the centre.
std::vector<std::array<double, 3>> devkit_corners(const float* box) {
  const double x = box[0], y = box[1], z = box[2], w = box[3], l = box[4], h = box[5];
  const double yaw = box[6];
  const double xs[8] = {1, 1, 1, 1, -1, -1, -1, -1};
  const double ys[8] = {1, -1, -1, 1, 1, -1, -1, 1};
  const double zs[8] = {1, 1, -1, -1, 1, 1, -1, -1};
  std::vector<std::array<double, 3>> corners;
  for (int i = 0; i < 8; ++i) {
    const double cx = l / 2 * xs[i], cy = w / 2 * ys[i], cz = h / 2 * zs[i];
    corners.push_back({x + std::cos(yaw) * cx - std::sin(yaw) * cy,
                       y + std::sin(yaw) * cx + std::cos(yaw) * cy, z + cz});
  }
  return corners;
}

}  // namespace

TEST(Augment, RotationByQuarterTurnIsCounterClockwise) {
  // Point (1, 0, 0) -> (0, 1, 0). Box at (2, 0, 1) with yaw 0.3 and velocity (1, 0):
  // centre -> (0, 2, 1), yaw -> 0.3 + pi/2 = 1.8707963, velocity -> (0, 1); sizes unchanged.
  Sample sample = make_sample({{1, 0, 0, 7, 0.1f}}, {{2, 0, 1, 1, 2, 1.5f, 0.3f, 1, 0}});
  apply_augmentation(sample, params_with(kPi / 2, 1.0, false, false));
  expect_point(sample, 0, 0, 1, 0);
  EXPECT_FLOAT_EQ(at(sample.points, 0, 3), 7.0f);
  EXPECT_FLOAT_EQ(at(sample.points, 0, 4), 0.1f);
  expect_box(sample, 0, {0, 2, 1, 1, 2, 1.5, 1.8707963, 0, 1});
}

TEST(Augment, FlipYMirrorsYYawAndVy) {
  // (1, 2, 3) -> (1, -2, 3); yaw 0.3 -> -0.3; velocity (0.5, 1.5) -> (0.5, -1.5).
  Sample sample = make_sample({{1, 2, 3, 0, 0}}, {{1, 2, 3, 1, 2, 1.5f, 0.3f, 0.5f, 1.5f}});
  apply_augmentation(sample, params_with(0.0, 1.0, false, true));
  expect_point(sample, 0, 1, -2, 3);
  expect_box(sample, 0, {1, -2, 3, 1, 2, 1.5, -0.3, 0.5, -1.5});
}

TEST(Augment, FlipXMirrorsXYawAndVx) {
  // (1, 2, 3) -> (-1, 2, 3); yaw 0.3 -> pi - 0.3 = 2.8415927; velocity (0.5, 1.5) -> (-0.5, 1.5).
  Sample sample = make_sample({{1, 2, 3, 0, 0}}, {{1, 2, 3, 1, 2, 1.5f, 0.3f, 0.5f, 1.5f}});
  apply_augmentation(sample, params_with(0.0, 1.0, true, false));
  expect_point(sample, 0, -1, 2, 3);
  expect_box(sample, 0, {-1, 2, 3, 1, 2, 1.5, 2.8415927, -0.5, 1.5});
}

TEST(Augment, BothFlipsTurnYawByPiAndWrap) {
  // yaw 0.3 -> pi + 0.3, wrapped to 0.3 - pi = -2.8415927.
  Sample sample = make_sample({{1, 2, 3, 0, 0}}, {{1, 2, 3, 1, 2, 1.5f, 0.3f, 0.5f, 1.5f}});
  apply_augmentation(sample, params_with(0.0, 1.0, true, true));
  expect_point(sample, 0, -1, -2, 3);
  expect_box(sample, 0, {-1, -2, 3, 1, 2, 1.5, -2.8415927, -0.5, -1.5});
}

TEST(Augment, ScaleMultipliesPositionsSizesAndVelocities) {
  Sample sample = make_sample({{1, -2, 0.5f, 4, 0.2f}}, {{1, -2, 0.5f, 1, 2, 3, 0.3f, 0.5f, -1}});
  apply_augmentation(sample, params_with(0.0, 2.0, false, false));
  expect_point(sample, 0, 2, -4, 1);
  EXPECT_FLOAT_EQ(at(sample.points, 0, 3), 4.0f);
  expect_box(sample, 0, {2, -4, 1, 2, 4, 6, 0.3, 1, -2});
}

TEST(Augment, TranslationMovesPositionsOnly) {
  Sample sample = make_sample({{1, 1, 1, 0, 0}}, {{1, 1, 1, 1, 2, 3, 0.3f, 0.5f, -1}});
  apply_augmentation(sample, params_with(0.0, 1.0, false, false, {1, -2, 0.5}));
  expect_point(sample, 0, 2, -1, 1.5);
  expect_box(sample, 0, {2, -1, 1.5, 1, 2, 3, 0.3, 0.5, -1});
}

TEST(Augment, OrderIsFlipRotateScaleTranslate) {
  // flip_y, rotation pi/2, scale 2, translation (10, 0, 0):
  // (1, 0, 0): flip (1, 0) -> rotate (0, 1) -> scale (0, 2) -> translate (10, 2, 0).
  // (0, 1, 0): flip (0, -1) -> rotate (1, 0) -> scale (2, 0) -> translate (12, 0, 0).
  //   (rotating before flipping would give (8, 0, 0)).
  // Box yaw 0.3: flip -0.3 -> rotate -0.3 + pi/2 = 1.2707963; velocity (1, 0): flip (1, 0) ->
  // rotate (0, 1) -> scale (0, 2).
  Sample sample = make_sample({{1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}}, {{0, 1, 0, 1, 2, 1, 0.3f, 1, 0}});
  apply_augmentation(sample, params_with(kPi / 2, 2.0, false, true, {10, 0, 0}));
  expect_point(sample, 0, 10, 2, 0);
  expect_point(sample, 1, 12, 0, 0);
  expect_box(sample, 0, {12, 0, 0, 2, 4, 2, 1.2707963, 0, 2});
}

TEST(Augment, YawIsWrappedIntoMinusPiToPi) {
  // Box 0: 3.0 + 0.5 = 3.5 -> 3.5 - 2 pi = -2.7831853; box 1: -3.0 + 0.5 = -2.5 (inside).
  Sample sample =
      make_sample({}, {{0, 0, 0, 1, 1, 1, 3.0f, 0, 0}, {0, 0, 0, 1, 1, 1, -3.0f, 0, 0}});
  apply_augmentation(sample, params_with(0.5, 1.0, false, false));
  EXPECT_NEAR(at(sample.boxes.boxes, 0, 6), -2.7831853, 1e-5);
  EXPECT_NEAR(at(sample.boxes.boxes, 1, 6), -2.5, 1e-5);
  // Then -1: box 0: -3.7831853 -> + 2 pi = 2.5; box 1: -3.5 -> + 2 pi = 2.7831853.
  apply_augmentation(sample, params_with(-1.0, 1.0, false, false));
  EXPECT_NEAR(at(sample.boxes.boxes, 0, 6), 2.5, 1e-5);
  EXPECT_NEAR(at(sample.boxes.boxes, 1, 6), 2.7831853, 1e-5);
  // A yaw of exactly -pi (as float, just below -pi) must still come out inside [-pi, pi).
  Sample edge = make_sample({}, {{0, 0, 0, 1, 1, 1, static_cast<float>(-kPi), 0, 0}});
  apply_augmentation(edge, params_with(0.0, 1.0, false, false));
  const double yaw = at(edge.boxes.boxes, 0, 6);
  EXPECT_GE(yaw, -kPi);
  EXPECT_LT(yaw, kPi);
}

TEST(Augment, NaNVelocitiesStayNaN) {
  Sample sample = make_sample({}, {{1, 2, 0, 1, 2, 1, 0.3f, kNaN, kNaN}});
  apply_augmentation(sample, params_with(0.7, 1.1, true, true, {1, 1, 0}));
  EXPECT_TRUE(std::isnan(at(sample.boxes.boxes, 0, 7)));
  EXPECT_TRUE(std::isnan(at(sample.boxes.boxes, 0, 8)));
  EXPECT_FALSE(std::isnan(at(sample.boxes.boxes, 0, 0)));
}

TEST(Augment, IdentityParamsLeaveEverythingUnchanged) {
  Sample sample = make_sample(
      {{1.5f, -2.25f, 0.75f, 9, 0.05f}, {-30, 12, -1, 0, 0.3f}},
      {{1, 2, 3, 1, 2, 1.5f, 0.3f, 0.5f, 1.5f}, {-4, 5, -1, 2, 4, 1.7f, -2.9f, kNaN, kNaN}});
  sample.point_labels = torch::tensor({3, 7}, torch::kInt64);
  const torch::Tensor points = sample.points.clone();
  const torch::Tensor boxes = sample.boxes.boxes.clone();
  apply_augmentation(sample, AugmentParams{});
  EXPECT_TRUE(torch::equal(sample.points, points));
  EXPECT_TRUE(torch::allclose(sample.boxes.boxes, boxes, 0.0, 0.0, /*equal_nan=*/true));
  EXPECT_TRUE(torch::equal(sample.point_labels, torch::tensor({3, 7}, torch::kInt64)));
}

TEST(Augment, LeavesLabelsAndTheInputTensorsAlone) {
  Sample sample = make_sample({{1, 0, 0, 5, 0.1f}}, {{1, 0, 0, 1, 2, 1, 0, 0, 0}});
  sample.point_labels = torch::tensor({4}, torch::kInt64);
  const torch::Tensor original_points = sample.points;  // shares storage with the sample
  const torch::Tensor original_boxes = sample.boxes.boxes;
  apply_augmentation(sample, params_with(kPi / 2, 2.0, true, false, {1, 1, 1}));
  EXPECT_FLOAT_EQ(at(original_points, 0, 0), 1.0f);  // a cached sample keeps its values
  EXPECT_FLOAT_EQ(at(original_boxes, 0, 0), 1.0f);
  EXPECT_TRUE(torch::equal(sample.point_labels, torch::tensor({4}, torch::kInt64)));
}

/// The Occ3D voxel index of a coordinate (0.4 m voxels from -40 m, or from -1 m along z).
int64_t voxel(double value, double low) { return static_cast<int64_t>(std::floor((value - low) / 0.4)); }

TEST(Augment, OccupancyGridsFlipAndTurnWithThePoints) {
  // Labelled voxels with a point at each centre; after every flip and quarter turn, each point
  // must still sit in a voxel of its label, in semantics and in both masks.
  const std::vector<std::array<int64_t, 4>> labelled = {
      {3, 170, 2, 4}, {120, 7, 0, 11}, {199, 0, 15, 7}, {42, 100, 5, 16}};
  for (int turns = 0; turns < 4; ++turns) {
    for (const bool flip_x : {false, true}) {
      for (const bool flip_y : {false, true}) {
        std::vector<std::array<float, 5>> points;
        Sample sample;
        sample.occ_semantics = torch::full({200, 200, 16}, 17, torch::kUInt8);
        for (const auto& [i, j, k, label] : labelled) {
          sample.occ_semantics[i][j][k] = label;
          points.push_back({static_cast<float>(-40 + 0.4 * (i + 0.5)),
                            static_cast<float>(-40 + 0.4 * (j + 0.5)),
                            static_cast<float>(-1 + 0.4 * (k + 0.5)), 0, 0});
        }
        Sample with_points = make_sample(points, {});
        with_points.occ_semantics = sample.occ_semantics;
        with_points.occ_mask_lidar = sample.occ_semantics != 17;
        with_points.occ_mask_camera = sample.occ_semantics == 17;
        AugmentParams params = params_with(turns * kPi / 2, 1.0, flip_x, flip_y);
        params.quarter_turns = turns;
        apply_augmentation(with_points, params);
        for (size_t p = 0; p < labelled.size(); ++p) {
          const int64_t i = voxel(at(with_points.points, p, 0), -40);
          const int64_t j = voxel(at(with_points.points, p, 1), -40);
          const int64_t k = voxel(at(with_points.points, p, 2), -1);
          const std::string where = "turns " + std::to_string(turns) + " flips " +
                                    std::to_string(flip_x) + std::to_string(flip_y);
          EXPECT_EQ(with_points.occ_semantics[i][j][k].item<int>(), labelled[p][3]) << where;
          EXPECT_TRUE(with_points.occ_mask_lidar[i][j][k].item<bool>()) << where;
          EXPECT_FALSE(with_points.occ_mask_camera[i][j][k].item<bool>()) << where;
        }
        EXPECT_EQ((with_points.occ_semantics != 17).sum().item<int64_t>(), 4);
      }
    }
  }
}

TEST(Augment, OccupancyRefusesTransformsThatLeaveTheGrid) {
  for (const AugmentParams& params :
       {params_with(0.3, 1.0, false, false), params_with(0.0, 1.1, false, false),
        params_with(0.0, 1.0, false, false, {0.5, 0, 0})}) {
    Sample sample = make_sample({{1, 0, 0, 5, 0.1f}}, {});
    sample.occ_semantics = torch::full({200, 200, 16}, 17, torch::kUInt8);
    try {
      apply_augmentation(sample, params);
      ADD_FAILURE() << "expected a DataError";
    } catch (const DataError& error) {
      EXPECT_NE(std::string(error.what()).find("sample test: Occ3D labels allow only flips and "
                                               "quarter turns"),
                std::string::npos)
          << error.what();
    }
  }
}

TEST(Augment, QuarterTurnsAreDrawnLastAndUniformly) {
  AugmentConfig plain, turning;
  plain.rotation = turning.rotation = {-0.1, 0.1};
  turning.quarter_turns = true;
  std::mt19937_64 a(5), b(5);
  std::array<int, 4> seen{};
  for (int n = 0; n < 400; ++n) {
    const AugmentParams p = draw_augmentation(plain, a);
    const AugmentParams t = draw_augmentation(turning, b);
    ASSERT_GE(t.quarter_turns, 0);
    ASSERT_LT(t.quarter_turns, 4);
    ++seen[static_cast<size_t>(t.quarter_turns)];
    // The other values are the ones drawn without quarter turns.
    EXPECT_NEAR(t.rotation - t.quarter_turns * kPi / 2, p.rotation, 1e-14);
    EXPECT_EQ(t.scale, p.scale);
    EXPECT_EQ(t.flip_x, p.flip_x);
    EXPECT_EQ(p.quarter_turns, 0);
  }
  for (const int count : seen) EXPECT_GT(count, 60);  // 100 expected each
}

TEST(Augment, BoxCornersMoveWithThePoints) {
  // For every combination of flips and several rotations, scales and translations, the corners
  // of the augmented box equal the original corners transformed as points (as a set: a mirror
  // permutes the corners).
  const BoxRow box = {3.0f, -1.5f, 0.8f, 1.9f, 4.6f, 1.7f, 0.4f, 2.0f, -0.5f};
  for (bool flip_x : {false, true}) {
    for (bool flip_y : {false, true}) {
      for (double rotation : {-2.5, -0.7, 0.0, 1.3, 3.0}) {
        for (double scale : {0.9, 1.1}) {
          SCOPED_TRACE(::testing::Message() << "flip_x=" << flip_x << " flip_y=" << flip_y
                                            << " rotation=" << rotation << " scale=" << scale);
          std::vector<std::array<float, 5>> points;
          for (const auto& c : devkit_corners(box.data())) {
            points.push_back({static_cast<float>(c[0]), static_cast<float>(c[1]),
                              static_cast<float>(c[2]), 0, 0});
          }
          Sample sample = make_sample(points, {box});
          apply_augmentation(sample,
                             params_with(rotation, scale, flip_x, flip_y, {0.3, -0.2, 0.1}));
          const torch::Tensor boxes = sample.boxes.boxes.contiguous();
          const auto corners = devkit_corners(boxes.data_ptr<float>());
          for (int64_t i = 0; i < 8; ++i) {
            double best = 1e9;
            for (const auto& c : corners) {
              best = std::min(
                  best, std::hypot(c[0] - at(sample.points, i, 0), c[1] - at(sample.points, i, 1),
                                   c[2] - at(sample.points, i, 2)));
            }
            EXPECT_LT(best, 1e-4) << "corner " << i;
          }
        }
      }
    }
  }
}

TEST(Augment, SameSeedGivesSameParams) {
  AugmentConfig config;
  config.translation_std = {0.5, 0.5, 0.1};
  std::mt19937_64 a(7), b(7), c(8);
  for (int i = 0; i < 5; ++i) {
    const AugmentParams pa = draw_augmentation(config, a);
    const AugmentParams pb = draw_augmentation(config, b);
    EXPECT_EQ(pa.rotation, pb.rotation);
    EXPECT_EQ(pa.scale, pb.scale);
    EXPECT_EQ(pa.flip_x, pb.flip_x);
    EXPECT_EQ(pa.flip_y, pb.flip_y);
    EXPECT_EQ(pa.translation, pb.translation);
  }
  const AugmentParams pa = draw_augmentation(config, a);
  const AugmentParams pc = draw_augmentation(config, c);
  EXPECT_NE(pa.rotation, pc.rotation);
}

TEST(Augment, DrawsStayInTheConfiguredRanges) {
  AugmentConfig config;
  config.rotation = {-0.2, 0.6};
  config.scale = {0.9, 1.2};
  config.flip_x = false;
  std::mt19937_64 rng(3);
  int flips_y = 0;
  for (int i = 0; i < 400; ++i) {
    const AugmentParams params = draw_augmentation(config, rng);
    EXPECT_GE(params.rotation, -0.2);
    EXPECT_LE(params.rotation, 0.6);
    EXPECT_GE(params.scale, 0.9);
    EXPECT_LE(params.scale, 1.2);
    EXPECT_FALSE(params.flip_x);
    EXPECT_EQ(params.translation, (std::array<double, 3>{0, 0, 0}));  // default std 0
    flips_y += params.flip_y ? 1 : 0;
  }
  // Probability 0.5 each: 400 draws land far from 0 and 400 (6 sigma is 200 +- 60).
  EXPECT_GT(flips_y, 140);
  EXPECT_LT(flips_y, 260);
}

TEST(Augment, DisabledDrawsIdentityWithoutConsumingTheEngine) {
  AugmentConfig config;
  config.enabled = false;
  std::mt19937_64 rng(11), fresh(11);
  const AugmentParams params = draw_augmentation(config, rng);
  EXPECT_EQ(params.rotation, 0.0);
  EXPECT_EQ(params.scale, 1.0);
  EXPECT_FALSE(params.flip_x);
  EXPECT_FALSE(params.flip_y);
  EXPECT_EQ(params.translation, (std::array<double, 3>{0, 0, 0}));
  EXPECT_EQ(rng(), fresh());
}

TEST(Augment, ValidateNamesTheKey) {
  auto message_of = [](const AugmentConfig& config) -> std::string {
    try {
      validate(config);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "no error";
  };
  EXPECT_EQ(message_of(AugmentConfig{}), "no error");
  AugmentConfig config;
  config.rotation = {0.1};
  EXPECT_EQ(message_of(config), "augment.rotation: expected 2 values [min, max], got 1");
  config = AugmentConfig{};
  config.rotation = {0.5, -0.5};
  EXPECT_EQ(message_of(config), "augment.rotation: expected min <= max, got [0.5, -0.5]");
  config = AugmentConfig{};
  config.scale = {1.1, 0.9};
  EXPECT_EQ(message_of(config), "augment.scale: expected min <= max, got [1.1, 0.9]");
  config = AugmentConfig{};
  config.scale = {0.0, 1.0};
  EXPECT_EQ(message_of(config), "augment.scale: expected values > 0, got [0, 1]");
  config = AugmentConfig{};
  config.translation_std = {0.1, 0.1};
  EXPECT_EQ(message_of(config), "augment.translation_std: expected 3 values (x, y, z), got 2");
  config = AugmentConfig{};
  config.translation_std = {0.1, -0.1, 0.0};
  EXPECT_EQ(message_of(config), "augment.translation_std: expected values >= 0, got -0.1");
}

TEST(Augment, ConfigReadsFromTheAugmentSection) {
  AugmentConfig config;
  core::ConfigDocument document = core::ConfigDocument::from_string(
      "[augment]\nrotation = [-0.5, 0.25]\nflip_x = false\ntranslation_std = [0.2, 0.2, 0]\n",
      "augment.toml");
  document.read_into(core::fields_of(config));
  EXPECT_EQ(config.rotation, (std::vector<double>{-0.5, 0.25}));
  EXPECT_FALSE(config.flip_x);
  EXPECT_TRUE(config.flip_y);
  EXPECT_EQ(config.translation_std, (std::vector<double>{0.2, 0.2, 0.0}));
  EXPECT_EQ(
      core::field_keys(core::fields_of(config)),
      (std::vector<std::string>{"augment.enabled", "augment.rotation", "augment.scale",
                                "augment.flip_x", "augment.flip_y", "augment.translation_std",
                                "augment.quarter_turns", "augment.gt_paste", "augment.gt_database",
                                "augment.gt_paste_counts"}));
  // A scale of 0 is refused by the field's range.
  core::ConfigDocument bad =
      core::ConfigDocument::from_string("[augment]\nscale = [0, 1]\n", "augment.toml");
  EXPECT_THROW(bad.read_into(core::fields_of(config)), ConfigError);
}

}  // namespace ptqat::datasets
