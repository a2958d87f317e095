#include "datasets/pillars.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"

namespace ptqat::datasets {
namespace {

/// Grids larger than this would make the per-thread cell table (4 bytes a cell) unreasonable.
constexpr int64_t kMaxGridCells = int64_t{1} << 26;

/// Pillars along one axis, rounded: the config checks that the extent is a whole number.
int64_t cells_along(const std::vector<double>& range, const std::vector<double>& size,
                    size_t axis) {
  if (range.size() != 6 || size.size() != 2) return 0;
  return std::llround((range[axis + 3] - range[axis]) / size[axis]);
}

/// Maps a grid cell to its pillar row, -1 for none. One table per thread, sized for the largest
/// grid seen, and all -1 between calls: pillarize resets only the cells it used (O(P), not
/// O(grid)) so that a 512 x 512 grid is not refilled for every sample.
std::vector<int32_t>& cell_table(int64_t cells) {
  thread_local std::vector<int32_t> table;
  if (static_cast<int64_t>(table.size()) < cells) table.resize(static_cast<size_t>(cells), -1);
  return table;
}

/// What pillarize gathers per pillar in its pass over the points; count and sums side by side so
/// that a point's update touches one place in memory.
struct PillarAccumulator {
  int64_t cell;   ///< iy * grid_x + ix
  int64_t count;  ///< kept points so far
  double sum_x, sum_y, sum_z;
};

/// Restores the cell table to all -1 on every exit path, so an exception cannot leave stale
/// pillar rows behind for the next call on this thread.
class CellTableReset {
 public:
  CellTableReset(std::vector<int32_t>& table, const std::vector<PillarAccumulator>& pillars)
      : table_(table), pillars_(pillars) {}
  ~CellTableReset() {
    for (const PillarAccumulator& pillar : pillars_) table_[static_cast<size_t>(pillar.cell)] = -1;
  }
  CellTableReset(const CellTableReset&) = delete;
  CellTableReset& operator=(const CellTableReset&) = delete;

 private:
  std::vector<int32_t>& table_;
  const std::vector<PillarAccumulator>& pillars_;
};

}  // namespace

void PillarConfig::visit(core::ConfigVisitor& v) {
  using core::IntRange;
  using core::RealRange;
  using core::Stage;
  v.section("pillars", [&] {
    v.field({"point_range", "x_min, y_min, z_min, x_max, y_max, z_max of kept points (m)",
             Stage::kFloatTrain},
            point_range, RealRange{-1000.0, 1000.0});
    v.field({"pillar_size", "pillar extent in x and y (m)", Stage::kFloatTrain}, pillar_size,
            RealRange{0.0, 100.0, true});
    v.field({"max_points_per_pillar", "points kept per pillar", Stage::kFloatTrain},
            max_points_per_pillar, IntRange{1, 1024});
    v.field({"max_pillars", "pillars kept per sample", Stage::kFloatTrain}, max_pillars,
            IntRange{1, int64_t{1} << 24});
  });
}

int64_t PillarConfig::grid_x() const { return cells_along(point_range, pillar_size, 0); }
int64_t PillarConfig::grid_y() const { return cells_along(point_range, pillar_size, 1); }

void validate(const PillarConfig& config) {
  const std::vector<double>& range = config.point_range;
  const std::vector<double>& size = config.pillar_size;
  PTQAT_CHECK(range.size() == 6, ConfigError,
              "pillars.point_range: expected 6 values (x_min, y_min, z_min, x_max, y_max, z_max), "
              "got {}",
              range.size());
  for (size_t axis = 0; axis < 3; ++axis) {
    PTQAT_CHECK(range[axis] < range[axis + 3], ConfigError,
                "pillars.point_range: expected min < max on axis {}, got [{}, {}]", "xyz"[axis],
                range[axis], range[axis + 3]);
  }
  PTQAT_CHECK(size.size() == 2, ConfigError,
              "pillars.pillar_size: expected 2 values (x, y), got {}", size.size());
  for (size_t axis = 0; axis < 2; ++axis) {
    PTQAT_CHECK(size[axis] > 0.0, ConfigError, "pillars.pillar_size: expected values > 0, got {}",
                size[axis]);
    const double cells = (range[axis + 3] - range[axis]) / size[axis];
    PTQAT_CHECK(std::abs(cells - std::round(cells)) <= 1e-6, ConfigError,
                "pillars.point_range: expected the {} extent {} to be a whole number of pillars "
                "of {} m, got {} pillars",
                "xy"[axis], range[axis + 3] - range[axis], size[axis], cells);
  }
  PTQAT_CHECK(config.max_points_per_pillar >= 1, ConfigError,
              "pillars.max_points_per_pillar: expected >= 1, got {}", config.max_points_per_pillar);
  PTQAT_CHECK(config.max_pillars >= 1, ConfigError, "pillars.max_pillars: expected >= 1, got {}",
              config.max_pillars);
  // In double: a tiny pillar size in a config built in code could overflow int64 here.
  const double cells = static_cast<double>(config.grid_x()) * static_cast<double>(config.grid_y());
  PTQAT_CHECK(cells <= static_cast<double>(kMaxGridCells), ConfigError,
              "pillars.pillar_size: expected at most {} grid cells, got {} x {}", kMaxGridCells,
              config.grid_x(), config.grid_y());
}

Pillars pillarize(const torch::Tensor& points, const PillarConfig& config) {
  validate(config);
  PTQAT_CHECK(points.defined() && points.dim() == 2 && points.size(1) >= 3 &&
                  points.scalar_type() == torch::kFloat32,
              DataError, "pillarize: expected points [N, C>=3] float32, got {}",
              points.defined() ? c10::str(points.sizes(), " ", points.scalar_type())
                               : std::string("undefined"));
  const torch::Tensor input = points.contiguous();
  const int64_t num_input = input.size(0), channels = input.size(1);
  const float* data = input.data_ptr<float>();

  const double x_min = config.point_range[0], y_min = config.point_range[1];
  const double z_min = config.point_range[2], x_max = config.point_range[3];
  const double y_max = config.point_range[4], z_max = config.point_range[5];
  const double size_x = config.pillar_size[0], size_y = config.pillar_size[1];
  const int64_t grid_x = config.grid_x(), grid_y = config.grid_y();
  const int64_t max_points = config.max_points_per_pillar;
  const int64_t max_pillars = config.max_pillars;

  std::vector<int32_t>& table = cell_table(grid_x * grid_y);
  std::vector<PillarAccumulator> accumulators;  // one per pillar, in creation order
  const CellTableReset reset(table, accumulators);
  // [P, max_points] input row of each kept point. Never larger than the features tensor built
  // from it, so a generous max_pillars costs nothing unless the points fill the pillars.
  std::vector<int64_t> slots;

  torch::Tensor point_pillar = torch::empty({num_input}, torch::kInt64);
  int64_t* point_pillar_data = point_pillar.data_ptr<int64_t>();
  // Raw pointers into the vectors, refreshed only when a pillar is created (the vectors may
  // move then): the per-point path is a lookup, a compare and a few adds.
  int32_t* cell_pillar = table.data();
  PillarAccumulator* pillar_data = accumulators.data();
  int64_t* slot_data = slots.data();

  // Single pass over the raw points; no per-point tensor ops (this runs per sample on ~340k
  // points for 10 sweeps).
  for (int64_t i = 0; i < num_input; ++i) {
    const float* p = data + i * channels;
    const double x = p[0], y = p[1], z = p[2];
    point_pillar_data[i] = -1;
    // Written as "inside" so that NaN coordinates fail every comparison and are skipped.
    if (!(x >= x_min && x < x_max && y >= y_min && y < y_max && z >= z_min && z < z_max)) continue;
    // x < x_max can still round to grid_x after the division: clamp to the last cell.
    const int64_t ix = std::min(static_cast<int64_t>((x - x_min) / size_x), grid_x - 1);
    const int64_t iy = std::min(static_cast<int64_t>((y - y_min) / size_y), grid_y - 1);
    const int64_t cell = iy * grid_x + ix;
    int64_t pillar = cell_pillar[cell];
    if (pillar < 0) {
      pillar = static_cast<int64_t>(accumulators.size());
      if (pillar == max_pillars) continue;               // full: points of new pillars are dropped
      accumulators.push_back({cell, 0, 0.0, 0.0, 0.0});  // first, so the reset always sees it
      cell_pillar[cell] = static_cast<int32_t>(pillar);
      slots.resize(slots.size() + static_cast<size_t>(max_points));
      pillar_data = accumulators.data();
      slot_data = slots.data();
    }
    PillarAccumulator& accumulator = pillar_data[pillar];
    if (accumulator.count == max_points) continue;  // a pillar keeps its first max_points points
    slot_data[pillar * max_points + accumulator.count] = i;
    ++accumulator.count;
    accumulator.sum_x += x;
    accumulator.sum_y += y;
    accumulator.sum_z += z;
    point_pillar_data[i] = pillar;
  }

  const auto num_pillars = static_cast<int64_t>(accumulators.size());
  const int64_t width = channels + 5;
  Pillars result;
  result.features = torch::empty({num_pillars, max_points, width}, torch::kFloat32);
  result.coords = torch::empty({num_pillars, 2}, torch::kInt64);
  result.num_points = torch::empty({num_pillars}, torch::kInt64);
  result.point_pillar = point_pillar;
  float* features = result.features.data_ptr<float>();
  int64_t* coords = result.coords.data_ptr<int64_t>();
  int64_t* num_points = result.num_points.data_ptr<int64_t>();

  // Second pass, pillar by pillar: the features are written once, in order.
  for (int64_t pillar = 0; pillar < num_pillars; ++pillar) {
    const PillarAccumulator& accumulator = pillar_data[pillar];
    const int64_t iy = accumulator.cell / grid_x, ix = accumulator.cell % grid_x;
    const int64_t count = accumulator.count;
    coords[pillar * 2] = iy;
    coords[pillar * 2 + 1] = ix;
    num_points[pillar] = count;
    const double mean_x = accumulator.sum_x / count, mean_y = accumulator.sum_y / count;
    const double mean_z = accumulator.sum_z / count;
    const double centre_x = x_min + (ix + 0.5) * size_x, centre_y = y_min + (iy + 0.5) * size_y;
    float* rows = features + pillar * max_points * width;
    for (int64_t slot = 0; slot < count; ++slot) {
      const float* p = data + slot_data[pillar * max_points + slot] * channels;
      float* row = rows + slot * width;
      // A plain loop, not memcpy: C is ~5, and a library call per point costs more than the copy.
      for (int64_t c = 0; c < channels; ++c) row[c] = p[c];
      const double x = p[0], y = p[1], z = p[2];
      row[channels] = static_cast<float>(x - mean_x);
      row[channels + 1] = static_cast<float>(y - mean_y);
      row[channels + 2] = static_cast<float>(z - mean_z);
      row[channels + 3] = static_cast<float>(x - centre_x);
      row[channels + 4] = static_cast<float>(y - centre_y);
    }
    // Empty slots are zero rows (the features tensor was not zero-filled, to touch it once).
    std::memset(rows + count * width, 0,
                static_cast<size_t>((max_points - count) * width) * sizeof(float));
  }
  return result;
}

}  // namespace ptqat::datasets
