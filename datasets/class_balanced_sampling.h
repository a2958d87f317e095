#pragma once
// Class-balanced sampling, the "CBGS" of Zhu et al. 2019 (Class-balanced Grouping and Sampling
// for Point Cloud 3D Object Detection) as mmdetection3d's CBGSDataset implements it for the
// published CenterPoint / PointPillars nuScenes recipes: each training sample is repeated in
// proportion to how rare its classes are, so every class appears in about the same number of
// (sample, class) pairs. The grouping half of CBGS is CenterPoint's task groups
// (model.task_groups).

#include <cstdint>
#include <vector>

#include "datasets/nuscenes/nuscenes.h"

namespace ptqat::datasets {

/// Per sample row, its detection classes (each once): those of its annotations with at least
/// one LiDAR point (mmdetection3d's use_valid_flag).
std::vector<std::vector<int>> sample_detection_classes(const NuScenes& nusc,
                                                       const std::vector<Row>& rows);

/// CBGSDataset's resampling: with n_c the samples holding class c, N = sum of n_c over the
/// classes and f = 1 / num_classes, class c contributes floor(n_c * f / (n_c / N)) (that is,
/// floor(f * N)) draws with replacement from its samples; the result concatenates them class by
/// class. Seeded: the same
/// rows on every rank and run. Classes no sample holds contribute nothing.
std::vector<Row> class_balanced_rows(const std::vector<Row>& rows,
                                     const std::vector<std::vector<int>>& classes, int num_classes,
                                     uint64_t seed);

}  // namespace ptqat::datasets
