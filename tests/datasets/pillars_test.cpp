#include "datasets/pillars.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/config_toml.h"
#include "core/error.h"

namespace ptqat::datasets {
namespace {

/// A 4 m x 2 m grid of 1 m pillars (grid_x 4, grid_y 2), z in [-2, 2): exact binary values.
PillarConfig small_config(int64_t max_points = 3, int64_t max_pillars = 10) {
  PillarConfig config;
  config.point_range = {0.0, 0.0, -2.0, 4.0, 2.0, 2.0};
  config.pillar_size = {1.0, 1.0};
  config.max_points_per_pillar = max_points;
  config.max_pillars = max_pillars;
  return config;
}

torch::Tensor make_points(const std::vector<std::vector<float>>& rows) {
  const auto columns = static_cast<int64_t>(rows.empty() ? 4 : rows[0].size());
  torch::Tensor points = torch::zeros({static_cast<int64_t>(rows.size()), columns});
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < rows[i].size(); ++j) points[i][j] = rows[i][j];
  }
  return points;
}

std::vector<int64_t> to_vector(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.contiguous().view(-1);
  return {flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel()};
}

void expect_row(const Pillars& pillars, int64_t pillar, int64_t slot,
                const std::vector<double>& expected) {
  ASSERT_EQ(pillars.features.size(2), static_cast<int64_t>(expected.size()));
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_NEAR(pillars.features[pillar][slot][k].item<float>(), expected[k], 1e-6)
        << "pillar " << pillar << " slot " << slot << " column " << k;
  }
}

std::string error_of(const PillarConfig& config) {
  try {
    validate(config);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace

TEST(Pillars, TwoPillarsByHand) {
  // Columns x, y, z, intensity. Pillar (iy 0, ix 0) gets points 0, 2, 5; pillar (iy 1, ix 2)
  // gets points 1, 4; point 3 has x = 5 >= 4 and point 6 has z = 2 >= 2 (max is exclusive).
  const torch::Tensor points = make_points({{0.5f, 0.5f, 0.0f, 1},
                                            {2.25f, 1.5f, 1.0f, 2},
                                            {0.25f, 0.75f, -1.0f, 3},
                                            {5.0f, 0.5f, 0.0f, 4},
                                            {2.75f, 1.25f, -0.5f, 5},
                                            {0.75f, 0.25f, 0.5f, 6},
                                            {1.0f, 1.0f, 2.0f, 7}});
  const Pillars pillars = pillarize(points, small_config());
  EXPECT_EQ(pillars.features.sizes(), (std::vector<int64_t>{2, 3, 9}));
  EXPECT_EQ(pillars.features.scalar_type(), torch::kFloat32);
  EXPECT_EQ(to_vector(pillars.coords), (std::vector<int64_t>{0, 0, 1, 2}));
  EXPECT_EQ(to_vector(pillars.num_points), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(to_vector(pillars.point_pillar), (std::vector<int64_t>{0, 1, 0, -1, 1, 0, -1}));

  // Pillar 0: mean (0.5, 0.5, (0 - 1 + 0.5) / 3 = -1/6), centre (0.5, 0.5).
  expect_row(pillars, 0, 0, {0.5, 0.5, 0.0, 1, 0.0, 0.0, 1.0 / 6, 0.0, 0.0});
  expect_row(pillars, 0, 1, {0.25, 0.75, -1.0, 3, -0.25, 0.25, -5.0 / 6, -0.25, 0.25});
  expect_row(pillars, 0, 2, {0.75, 0.25, 0.5, 6, 0.25, -0.25, 4.0 / 6, 0.25, -0.25});
  // Pillar 1: mean (2.5, 1.375, 0.25), centre (2.5, 1.5); slot 2 is empty.
  expect_row(pillars, 1, 0, {2.25, 1.5, 1.0, 2, -0.25, 0.125, 0.75, -0.25, 0.0});
  expect_row(pillars, 1, 1, {2.75, 1.25, -0.5, 5, 0.25, -0.125, -0.75, 0.25, -0.25});
  expect_row(pillars, 1, 2, {0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST(Pillars, RangeIsHalfOpenAndNaNIsOutside) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const torch::Tensor points = make_points({{0.0f, 0.0f, -2.0f, 0},       // the min corner: in
                                            {4.0f, 1.0f, 0.0f, 0},        // x == x_max: out
                                            {1.0f, 2.0f, 0.0f, 0},        // y == y_max: out
                                            {-0.001f, 1.0f, 0.0f, 0},     // below x_min: out
                                            {3.999f, 1.999f, 1.999f, 0},  // last cell (1, 3)
                                            {nan, 1.0f, 0.0f, 0},
                                            {1.0f, 1.0f, 0.0f, 0}});  // cell boundary: (1, 1)
  const Pillars pillars = pillarize(points, small_config());
  EXPECT_EQ(to_vector(pillars.point_pillar), (std::vector<int64_t>{0, -1, -1, -1, 1, -1, 2}));
  EXPECT_EQ(to_vector(pillars.coords), (std::vector<int64_t>{0, 0, 1, 3, 1, 1}));
}

TEST(Pillars, PillarKeepsItsFirstPointsAndMeanUsesThemOnly) {
  // max 2 points: the third point of the pillar is dropped; the mean of the first two is
  // (0.5, 0.5, 0.5), where all three would give z (0 + 1 + 1.5) / 3 = 0.8333.
  const torch::Tensor points =
      make_points({{0.25f, 0.25f, 0.0f, 0}, {0.75f, 0.75f, 1.0f, 0}, {0.5f, 0.5f, 1.5f, 0}});
  const Pillars pillars = pillarize(points, small_config(/*max_points=*/2));
  EXPECT_EQ(to_vector(pillars.point_pillar), (std::vector<int64_t>{0, 0, -1}));
  EXPECT_EQ(to_vector(pillars.num_points), (std::vector<int64_t>{2}));
  EXPECT_EQ(pillars.features.sizes(), (std::vector<int64_t>{1, 2, 9}));
  expect_row(pillars, 0, 0, {0.25, 0.25, 0.0, 0, -0.25, -0.25, -0.5, -0.25, -0.25});
  expect_row(pillars, 0, 1, {0.75, 0.75, 1.0, 0, 0.25, 0.25, 0.5, 0.25, 0.25});
}

TEST(Pillars, PointsOfNewPillarsAreDroppedOncePillarsAreFull) {
  // Cells A (0,0), B (0,1), C (1,3), A, C with max_pillars 2: C never becomes a pillar.
  const torch::Tensor points = make_points({{0.5f, 0.5f, 0.0f, 0},
                                            {1.5f, 0.5f, 0.0f, 0},
                                            {3.5f, 1.5f, 0.0f, 0},
                                            {0.25f, 0.25f, 0.0f, 0},
                                            {3.25f, 1.25f, 0.0f, 0}});
  const Pillars pillars = pillarize(points, small_config(3, /*max_pillars=*/2));
  EXPECT_EQ(to_vector(pillars.point_pillar), (std::vector<int64_t>{0, 1, -1, 0, -1}));
  EXPECT_EQ(to_vector(pillars.coords), (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(to_vector(pillars.num_points), (std::vector<int64_t>{2, 1}));
}

TEST(Pillars, EmptyCloudGivesZeroPillarsWithTrailingDimensions) {
  const Pillars pillars = pillarize(torch::zeros({0, 5}), PillarConfig{});
  EXPECT_EQ(pillars.features.sizes(), (std::vector<int64_t>{0, 20, 10}));
  EXPECT_EQ(pillars.coords.sizes(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(pillars.num_points.sizes(), (std::vector<int64_t>{0}));
  EXPECT_EQ(pillars.point_pillar.sizes(), (std::vector<int64_t>{0}));
  EXPECT_EQ(pillars.coords.scalar_type(), torch::kInt64);
}

TEST(Pillars, LidarSizedCloudMatchesAReferenceAndReusesTheTable) {
  // ~340k points (10 sweeps of ~34k), dense near the sensor like a LiDAR scan, some outside the
  // range, enough to fill all 30000 pillars and many pillars' 20 slots. A straightforward
  // std::map implementation of the rules in pillars.h is the reference.
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int64_t n = 340000;
  torch::Tensor points = torch::empty({n, 5});
  float* data = points.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const double radius = 1.0 + 75.0 * std::pow(unit(rng), 3.0), angle = 6.283185 * unit(rng);
    data[i * 5] = static_cast<float>(radius * std::cos(angle));
    data[i * 5 + 1] = static_cast<float>(radius * std::sin(angle));
    data[i * 5 + 2] = static_cast<float>(-6.0 + 10.0 * unit(rng));
    data[i * 5 + 3] = static_cast<float>(unit(rng));
    data[i * 5 + 4] = static_cast<float>(0.05 * (i % 10));
  }
  const PillarConfig config;  // defaults: 512 x 512 pillars of 0.2 m, 20 points, 30000 pillars
  const auto start = std::chrono::steady_clock::now();
  const Pillars pillars = pillarize(points, config);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ::testing::Test::RecordProperty("pillarize_340k_ms", std::to_string(ms));

  std::map<std::pair<int64_t, int64_t>, int64_t> pillar_of_cell;
  std::vector<int64_t> counts;
  std::vector<std::array<double, 3>> sums;
  std::vector<int64_t> expected_pillar(n, -1), expected_slot(n, -1);
  for (int64_t i = 0; i < n; ++i) {
    const double x = data[i * 5], y = data[i * 5 + 1], z = data[i * 5 + 2];
    if (x < -51.2 || x >= 51.2 || y < -51.2 || y >= 51.2 || z < -5.0 || z >= 3.0) continue;
    const std::pair<int64_t, int64_t> cell{static_cast<int64_t>(std::floor((y + 51.2) / 0.2)),
                                           static_cast<int64_t>(std::floor((x + 51.2) / 0.2))};
    auto found = pillar_of_cell.find(cell);
    if (found == pillar_of_cell.end()) {
      if (static_cast<int64_t>(counts.size()) == 30000) continue;
      found = pillar_of_cell.emplace(cell, static_cast<int64_t>(counts.size())).first;
      counts.push_back(0);
      sums.push_back({0.0, 0.0, 0.0});
    }
    const int64_t pillar = found->second;
    if (counts[pillar] == 20) continue;
    expected_pillar[i] = pillar;
    expected_slot[i] = counts[pillar]++;
    sums[pillar] = {sums[pillar][0] + x, sums[pillar][1] + y, sums[pillar][2] + z};
  }
  ASSERT_EQ(pillars.coords.size(0), static_cast<int64_t>(counts.size()));
  EXPECT_EQ(to_vector(pillars.point_pillar), expected_pillar);
  EXPECT_EQ(to_vector(pillars.num_points), counts);
  const std::vector<int64_t> coords = to_vector(pillars.coords);
  for (const auto& [cell, pillar] : pillar_of_cell) {
    ASSERT_EQ(coords[pillar * 2], cell.first);
    ASSERT_EQ(coords[pillar * 2 + 1], cell.second);
  }
  const float* features = pillars.features.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t pillar = expected_pillar[i];
    if (pillar < 0) continue;
    const float* row = features + (pillar * 20 + expected_slot[i]) * 10;
    const double count = static_cast<double>(counts[pillar]);
    const double centre_x = -51.2 + 0.2 * (coords[pillar * 2 + 1] + 0.5);
    const double centre_y = -51.2 + 0.2 * (coords[pillar * 2] + 0.5);
    const double expected[10] = {data[i * 5],
                                 data[i * 5 + 1],
                                 data[i * 5 + 2],
                                 data[i * 5 + 3],
                                 data[i * 5 + 4],
                                 data[i * 5] - sums[pillar][0] / count,
                                 data[i * 5 + 1] - sums[pillar][1] / count,
                                 data[i * 5 + 2] - sums[pillar][2] / count,
                                 data[i * 5] - centre_x,
                                 data[i * 5 + 1] - centre_y};
    for (int k = 0; k < 10; ++k) ASSERT_NEAR(row[k], expected[k], 1e-5) << "point " << i;
  }

  // The same thread's cell table must be clean for the next call, on another grid.
  const Pillars small = pillarize(make_points({{0.5f, 0.5f, 0.0f, 0}}), small_config());
  EXPECT_EQ(to_vector(small.point_pillar), (std::vector<int64_t>{0}));
  const Pillars again = pillarize(points, config);
  EXPECT_TRUE(torch::equal(again.point_pillar, pillars.point_pillar));
  EXPECT_TRUE(torch::equal(again.features, pillars.features));
}

TEST(Pillars, RejectsMalformedPoints) {
  EXPECT_THROW(pillarize(torch::zeros({4, 2}), PillarConfig{}), DataError);
  EXPECT_THROW(pillarize(torch::zeros({4, 5}, torch::kFloat64), PillarConfig{}), DataError);
  EXPECT_THROW(pillarize(torch::Tensor(), PillarConfig{}), DataError);
}

TEST(Pillars, ValidateNamesTheKey) {
  EXPECT_EQ(error_of(PillarConfig{}), "no error");
  EXPECT_EQ(PillarConfig{}.grid_x(), 512);  // 102.4 / 0.2
  EXPECT_EQ(PillarConfig{}.grid_y(), 512);
  PillarConfig config;
  config.point_range = {-51.2, -51.2, -5.0, 51.2, 51.2};
  EXPECT_EQ(error_of(config),
            "pillars.point_range: expected 6 values (x_min, y_min, z_min, x_max, y_max, z_max), "
            "got 5");
  config = PillarConfig{};
  config.point_range = {-51.2, -51.2, 3.0, 51.2, 51.2, -5.0};
  EXPECT_EQ(error_of(config), "pillars.point_range: expected min < max on axis z, got [3, -5]");
  config = PillarConfig{};
  config.pillar_size = {0.2};
  EXPECT_EQ(error_of(config), "pillars.pillar_size: expected 2 values (x, y), got 1");
  config = PillarConfig{};
  config.pillar_size = {0.2, 0.0};
  EXPECT_EQ(error_of(config), "pillars.pillar_size: expected values > 0, got 0");
  config = PillarConfig{};
  config.pillar_size = {0.2, 0.3};  // 102.4 / 0.3 = 341.33 pillars
  const std::string message = error_of(config);
  EXPECT_EQ(
      message.rfind("pillars.point_range: expected the y extent 102.4 to be a whole number", 0), 0u)
      << message;
  config = PillarConfig{};
  config.max_points_per_pillar = 0;
  EXPECT_EQ(error_of(config), "pillars.max_points_per_pillar: expected >= 1, got 0");
  config = PillarConfig{};
  config.max_pillars = -1;
  EXPECT_EQ(error_of(config), "pillars.max_pillars: expected >= 1, got -1");
  config = PillarConfig{};
  config.pillar_size = {0.0001, 0.0001};  // 1024000^2 cells: more than a lookup table should hold
  EXPECT_EQ(error_of(config).rfind("pillars.pillar_size: expected at most 67108864 grid cells", 0),
            0u);
  EXPECT_THROW(pillarize(torch::zeros({1, 4}), config), ConfigError);
  config = PillarConfig{};
  config.pillar_size = {0.16, 0.16};  // 102.4 / 0.16 = 640: fine despite binary rounding
  EXPECT_EQ(error_of(config), "no error");
  EXPECT_EQ(config.grid_x(), 640);
}

TEST(Pillars, ConfigReadsFromThePillarsSection) {
  PillarConfig config;
  core::ConfigDocument document = core::ConfigDocument::from_string(
      "[pillars]\npillar_size = [0.4, 0.8]\nmax_points_per_pillar = 32\n", "pillars.toml");
  document.read_into(core::fields_of(config));
  EXPECT_EQ(config.grid_x(), 256);  // 102.4 / 0.4
  EXPECT_EQ(config.grid_y(), 128);  // 102.4 / 0.8
  EXPECT_EQ(config.max_points_per_pillar, 32);
  EXPECT_EQ(core::field_keys(core::fields_of(config)),
            (std::vector<std::string>{"pillars.point_range", "pillars.pillar_size",
                                      "pillars.max_points_per_pillar", "pillars.max_pillars"}));
  core::ConfigDocument bad =
      core::ConfigDocument::from_string("[pillars]\nmax_points_per_pillar = 0\n", "pillars.toml");
  EXPECT_THROW(bad.read_into(core::fields_of(config)), ConfigError);
}

}  // namespace ptqat::datasets
