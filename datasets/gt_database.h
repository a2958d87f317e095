#pragma once
// The ground-truth database of GT-paste augmentation (SECOND, Yan et al. 2018; the
// `nuscenes_dbinfos_train.pkl` + `nuscenes_gt_database/` of mmdetection3d's CenterPoint and
// PointPillars recipes): every annotated object of the training split with its points (all
// sweeps) and their lidarseg labels, in one HDF5 file that `ptqat data gtdb` writes.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/nuscenes/categories.h"
#include "datasets/nuscenes_dataset.h"

namespace ptqat::datasets {

/// One object: its box where it was annotated and a slice of the database's points.
struct GtObject {
  int64_t label = 0;      ///< detection class
  int64_t attribute = -1;
  std::array<double, 9> box{};  ///< x, y, z, w, l, h, yaw, vx, vy in its sample's frame
  int64_t first_point = 0;      ///< rows [first_point, first_point + num_points) of points
  int64_t num_points = 0;
  std::string sample_token;
};

struct GroundTruthDatabase {
  std::string frame;    ///< data.frame the points and boxes are in ("lidar" or "ego")
  int64_t nsweeps = 1;  ///< sweeps the points were aggregated from
  /// [P, 5] float32: x, y, z relative to the object's box centre, intensity, time lag.
  torch::Tensor points;
  /// [P] int64: lidarseg challenge class of the keyframe's points, -1 for older sweeps' points
  /// and everywhere when the split has no lidarseg.
  torch::Tensor point_labels;
  std::vector<GtObject> objects;
  /// Indices into objects, per detection class.
  std::array<std::vector<int64_t>, kNumDetectionClasses> by_class;
};

/// [N] bool: the rows of `points` ([N, >= 3]) inside `box` (x, y, z, w, l, h, yaw; l along the
/// heading), boundary included.
torch::Tensor points_in_box(const torch::Tensor& points, const std::array<double, 9>& box);

/// Every object of `dataset` (the training split) with at least `min_points` points inside its
/// box (mmdetection3d's filter_by_min_points, 5 for every nuScenes class).
GroundTruthDatabase build_gt_database(const NuScenesDataset& dataset, int64_t min_points);

/// Writes `database` to `path` (HDF5; a temporary sibling renamed into place). IoError naming
/// the path.
void write_gt_database(const GroundTruthDatabase& database, const std::string& path);

/// Reads what write_gt_database() wrote. IoError / DataError naming the path.
GroundTruthDatabase read_gt_database(const std::string& path);

}  // namespace ptqat::datasets
