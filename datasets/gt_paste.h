#pragma once
// GT-paste augmentation: objects from the ground-truth database (gt_database.h) pasted into a
// training sample where they collide with nothing, as mmdetection3d's ObjectSample /
// DataBaseSampler do for the published CenterPoint and PointPillars nuScenes recipes.

#include <cstdint>
#include <random>
#include <vector>

#include "datasets/gt_database.h"
#include "datasets/sample.h"

namespace ptqat::datasets {

/// Whether two boxes (x, y, z, w, l, h, yaw) overlap in bird's-eye view: the separating-axis
/// test of two rotated rectangles, touching counts as overlapping.
bool boxes_overlap_bev(const std::array<double, 9>& a, const std::array<double, 9>& b);

/// mmdetection3d's nuScenes sample_groups: objects wanted per sample, in kDetectionNames order
/// (car 2, truck 3, construction_vehicle 7, bus 4, trailer 6, barrier 2, motorcycle 6,
/// bicycle 6, pedestrian 2, traffic_cone 2).
inline const std::vector<int64_t> kMmdet3dPasteCounts = {2, 3, 7, 4, 6, 2, 6, 6, 2, 2};

/// Pastes into `sample`, for each class c, up to max(0, counts[c] - boxes of c already there)
/// objects drawn from the database without repeats; a drawn object is kept only when its box
/// overlaps (BEV) no box of the sample and no object kept before it. The sample's points inside
/// kept boxes are removed (with their lidarseg labels), each kept object's points are added at
/// its box (its keyframe points at the end of the keyframe block, with their labels, 0 where the
/// database has none; its sweep points at the end), and its box is appended. Returns how many
/// objects were pasted. DataError when the sample has Occ3D grids (pasting would contradict
/// them).
int64_t paste_ground_truth(Sample& sample, const GroundTruthDatabase& database,
                           const std::vector<int64_t>& counts, std::mt19937_64& rng);

}  // namespace ptqat::datasets
