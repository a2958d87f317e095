#include "datasets/synth/synth_occupancy.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/error.h"

namespace ptqat::datasets {
namespace {

constexpr double kVoxel = 0.4;
constexpr int64_t kNx = kOccGridX, kNy = kOccGridY, kNz = kOccGridZ;
const Eigen::Vector3d kGridLow(-40.0, -40.0, -1.0);
constexpr int64_t kGroundLayer = 2;  // z in [-0.2, 0.2]
constexpr double kGroundLayerTop = 0.2;

// lidarseg index (0..31) -> challenge class (0..16), docs/nuscenes.md 5c.
constexpr std::array<uint8_t, 32> kFineToCoarse = {0, 0,  7,  7,  7,  0,  7,  0, 0,  1, 0,
                                                   0, 8,  0,  2,  3,  3,  4,  5, 0,  0, 6,
                                                   9, 10, 11, 12, 13, 14, 15, 0, 16, 0};

uint8_t coarse_class(int lidarseg_index) {
  PTQAT_ASSERT(lidarseg_index >= 0 && lidarseg_index < 32, "lidarseg index {} out of 0..31",
               lidarseg_index);
  return kFineToCoarse[static_cast<size_t>(lidarseg_index)];
}

inline size_t flat(int64_t i, int64_t j, int64_t k) {
  return static_cast<size_t>((i * kNy + j) * kNz + k);
}

double voxel_center(int64_t index, int axis) {
  return kGridLow[axis] + kVoxel * (static_cast<double>(index) + 0.5);
}

// Amanatides-Woo traversal of the segment a -> b through the grid (both in the ego frame).
// Calls visit(i, j, k) for every voxel the segment passes through, in order, the voxels of both
// ends included; stops early when visit returns false.
template <class Visit>
void traverse(const Eigen::Vector3d& a, const Eigen::Vector3d& b, Visit&& visit) {
  const std::array<int64_t, 3> size = {kNx, kNy, kNz};
  const Eigen::Vector3d ga = (a - kGridLow) / kVoxel, d = (b - kGridLow) / kVoxel - ga;
  // Clip the segment parameter s in [0, 1] to the grid box [0, size] (slab test).
  double s0 = 0.0, s1 = 1.0;
  for (int axis = 0; axis < 3; ++axis) {
    const double n = static_cast<double>(size[static_cast<size_t>(axis)]);
    if (d[axis] == 0.0) {
      if (ga[axis] < 0.0 || ga[axis] > n) return;
      continue;
    }
    double t1 = -ga[axis] / d[axis], t2 = (n - ga[axis]) / d[axis];
    if (t1 > t2) std::swap(t1, t2);
    s0 = std::max(s0, t1);
    s1 = std::min(s1, t2);
  }
  if (s0 > s1) return;
  std::array<int64_t, 3> index{}, step{};
  std::array<double, 3> next{}, delta{};
  for (int axis = 0; axis < 3; ++axis) {
    const size_t ax = static_cast<size_t>(axis);
    const double p = ga[axis] + d[axis] * s0;
    index[ax] = std::clamp<int64_t>(static_cast<int64_t>(std::floor(p)), 0, size[ax] - 1);
    if (d[axis] > 0) {
      step[ax] = 1;
      next[ax] = (static_cast<double>(index[ax] + 1) - ga[axis]) / d[axis];
      delta[ax] = 1.0 / d[axis];
    } else if (d[axis] < 0) {
      step[ax] = -1;
      next[ax] = (static_cast<double>(index[ax]) - ga[axis]) / d[axis];
      delta[ax] = -1.0 / d[axis];
    } else {
      step[ax] = 0;
      next[ax] = std::numeric_limits<double>::infinity();
      delta[ax] = 0;
    }
  }
  while (true) {
    if (!visit(index[0], index[1], index[2])) return;
    size_t axis = next[0] < next[1] ? (next[0] < next[2] ? 0 : 2) : (next[1] < next[2] ? 1 : 2);
    // The boundary at exactly s1 still belongs to the segment: the end point's voxel is the
    // floor of its coordinates, as the voxel of every other point is.
    if (next[axis] > s1) return;
    index[axis] += step[axis];
    if (index[axis] < 0 || index[axis] >= size[axis]) return;
    next[axis] += delta[axis];
  }
}

// Writes `cls` into the voxels whose centres lie strictly inside the box (ego frame).
void rasterize_box(std::vector<uint8_t>& semantics, const SynthBox& box_global,
                   double solid_fraction, const Eigen::Vector3d& ego_t, double ego_yaw,
                   uint8_t cls) {
  const double ce = std::cos(ego_yaw), se = std::sin(ego_yaw);
  const Eigen::Vector3d d = box_global.center - ego_t;
  const double solid_height = box_global.wlh.z() * solid_fraction;
  const Eigen::Vector3d center(ce * d.x() + se * d.y(), -se * d.x() + ce * d.y(),
                               d.z() - box_global.wlh.z() / 2 + solid_height / 2);
  const double yaw = box_global.yaw - ego_yaw, cb = std::cos(yaw), sb = std::sin(yaw);
  const double hl = box_global.wlh.y() / 2, hw = box_global.wlh.x() / 2, hh = solid_height / 2;
  // Axis-aligned hull of the rotated box, then an exact test per voxel centre.
  const double ex = std::abs(cb) * hl + std::abs(sb) * hw;
  const double ey = std::abs(sb) * hl + std::abs(cb) * hw;
  const std::array<double, 3> lo = {center.x() - ex, center.y() - ey, center.z() - hh};
  const std::array<double, 3> hi = {center.x() + ex, center.y() + ey, center.z() + hh};
  const std::array<int64_t, 3> size = {kNx, kNy, kNz};
  std::array<int64_t, 3> first{}, last{};
  for (size_t a = 0; a < 3; ++a) {
    const double g0 = (lo[a] - kGridLow[static_cast<int>(a)]) / kVoxel - 0.5;
    const double g1 = (hi[a] - kGridLow[static_cast<int>(a)]) / kVoxel - 0.5;
    if (g1 < -1.0 || g0 > static_cast<double>(size[a])) return;
    first[a] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(g0)));
    last[a] = std::min<int64_t>(size[a] - 1, static_cast<int64_t>(std::ceil(g1)));
  }
  for (int64_t i = first[0]; i <= last[0]; ++i) {
    const double x = voxel_center(i, 0) - center.x();
    for (int64_t j = first[1]; j <= last[1]; ++j) {
      const double y = voxel_center(j, 1) - center.y();
      const double u = cb * x + sb * y, v = -sb * x + cb * y;
      if (!(std::abs(u) < hl && std::abs(v) < hw)) continue;
      for (int64_t k = first[2]; k <= last[2]; ++k) {
        if (std::abs(voxel_center(k, 2) - center.z()) < hh) semantics[flat(i, j, k)] = cls;
      }
    }
  }
}

torch::Tensor to_tensor(std::vector<uint8_t>& values, torch::ScalarType dtype) {
  return torch::from_blob(values.data(), {kNx, kNy, kNz}, torch::kUInt8).to(dtype).clone();
}

}  // namespace

Occ3dLabels make_occupancy(const SynthScene& scene, double t,
                           const std::vector<torch::Tensor>& ray_endpoints_ego,
                           const std::vector<Eigen::Vector3d>& ray_origins_ego,
                           const OccCameraRig& camera) {
  PTQAT_ASSERT(ray_endpoints_ego.size() == ray_origins_ego.size(),
               "{} endpoint tensors but {} origins", ray_endpoints_ego.size(),
               ray_origins_ego.size());
  const size_t voxels = static_cast<size_t>(kNx * kNy * kNz);
  std::vector<uint8_t> semantics(voxels, static_cast<uint8_t>(kOccFreeClass));
  const Eigen::Vector3d ego_t = scene.ego_translation(t);
  const double ego_yaw = scene.ego_yaw(t), ce = std::cos(ego_yaw), se = std::sin(ego_yaw);

  for (int64_t i = 0; i < kNx; ++i) {
    const double x = voxel_center(i, 0);
    for (int64_t j = 0; j < kNy; ++j) {
      const double y = voxel_center(j, 1);
      const Eigen::Vector2d global(ego_t.x() + ce * x - se * y, ego_t.y() + se * x + ce * y);
      semantics[flat(i, j, kGroundLayer)] = coarse_class(
          scene.ground.lidarseg_index_at(global, scene.road_origin, scene.road_heading));
    }
  }
  for (const SynthStructure& structure : scene.structures) {
    rasterize_box(semantics, structure.box, 1.0, ego_t, ego_yaw,
                  coarse_class(structure.lidarseg_index));
  }
  for (const SynthObject& object : scene.objects) {
    if (!object.alive_at(t)) continue;
    rasterize_box(semantics, object.box_at(t), object.solid_fraction, ego_t, ego_yaw,
                  coarse_class(object.lidarseg_index));
  }

  std::vector<uint8_t> mask_lidar(voxels, 0);
  for (size_t s = 0; s < ray_endpoints_ego.size(); ++s) {
    const torch::Tensor& raw = ray_endpoints_ego[s];
    PTQAT_ASSERT(raw.dim() == 2 && raw.size(1) >= 3, "ray endpoints must be [N, >=3], got {} dims",
                 raw.dim());
    const torch::Tensor ends = raw.slice(1, 0, 3).to(torch::kFloat64).contiguous();
    const double* p = ends.data_ptr<double>();
    for (int64_t n = 0; n < ends.size(0); ++n) {
      traverse(ray_origins_ego[s], Eigen::Vector3d(p[3 * n], p[3 * n + 1], p[3 * n + 2]),
               [&](int64_t i, int64_t j, int64_t k) {
                 mask_lidar[flat(i, j, k)] = 1;
                 return true;
               });
    }
  }

  // Camera visibility, voxel by voxel: the segment from the rig centre to the voxel centre must
  // reach it without crossing an occupied voxel. An occupied voxel below the camera is also
  // sighted just under the centre of its upper face: the ground layer, seen from above, is
  // otherwise hidden by the ground voxels in front of it (their centres lie below the line).
  std::vector<uint8_t> mask_camera(voxels, 0);
  const Eigen::Vector3d eye(0.0, 0.0, camera.height);
  PTQAT_ASSERT(eye.z() > kGroundLayerTop, "camera height {} must be above the ground layer",
               eye.z());
  const double tan_fov = std::tan(camera.vertical_half_fov_deg * M_PI / 180.0);
  const auto reaches = [&](const Eigen::Vector3d& target, int64_t i, int64_t j, int64_t k) {
    bool reached = false;
    traverse(eye, target, [&](int64_t vi, int64_t vj, int64_t vk) {
      reached = vi == i && vj == j && vk == k;
      return !reached && semantics[flat(vi, vj, vk)] == kOccFreeClass;
    });
    return reached;
  };
  // Fast path: a 3D segment crosses exactly the voxels above the 2D cells its projection
  // crosses. Where no cell on the way to a column (the column included) holds anything above
  // the ground layer, every voxel of the column from the ground layer up is reached: the
  // lines of sight stay above the ground layer until the target column.
  std::vector<uint8_t> raised(static_cast<size_t>(kNx * kNy), 0);
  for (int64_t i = 0; i < kNx; ++i) {
    for (int64_t j = 0; j < kNy; ++j) {
      for (int64_t k = kGroundLayer + 1; k < kNz; ++k) {
        if (semantics[flat(i, j, k)] != kOccFreeClass) raised[static_cast<size_t>(i * kNy + j)] = 1;
      }
    }
  }
  const double flat_z = voxel_center(0, 2);
  for (int64_t i = 0; i < kNx; ++i) {
    for (int64_t j = 0; j < kNy; ++j) {
      const double x = voxel_center(i, 0), y = voxel_center(j, 1);
      const double horizontal = std::hypot(x - eye.x(), y - eye.y());
      if (horizontal > camera.range) continue;
      bool clear = true;
      traverse(Eigen::Vector3d(eye.x(), eye.y(), flat_z), Eigen::Vector3d(x, y, flat_z),
               [&](int64_t vi, int64_t vj, int64_t) {
                 clear = !raised[static_cast<size_t>(vi * kNy + vj)];
                 return clear;
               });
      // Below the ground layer nothing is visible: every line of sight crosses it first.
      for (int64_t k = kGroundLayer; k < kNz; ++k) {
        const Eigen::Vector3d center(x, y, voxel_center(k, 2));
        if (std::abs(center.z() - eye.z()) > tan_fov * horizontal) continue;
        const double top = center.z() + kVoxel / 2;
        const bool occupied_below = semantics[flat(i, j, k)] != kOccFreeClass && top <= eye.z();
        bool visible = clear;
        if (!visible && occupied_below) visible = reaches({x, y, top - 1e-6}, i, j, k);
        if (!visible) visible = reaches(center, i, j, k);
        mask_camera[flat(i, j, k)] = visible;
      }
    }
  }

  Occ3dLabels labels;
  labels.semantics = to_tensor(semantics, torch::kUInt8);
  labels.mask_lidar = to_tensor(mask_lidar, torch::kBool);
  labels.mask_camera = to_tensor(mask_camera, torch::kBool);
  return labels;
}

}  // namespace ptqat::datasets
