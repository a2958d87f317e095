#include "datasets/synth/synth_lidar.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"

namespace ptqat::datasets {
namespace {

// A box prepared for one sweep: everything that does not depend on the ray direction.
struct CastBox {
  Eigen::Vector3d origin_local;  // sensor origin in the box frame
  double cos_yaw, sin_yaw;       // global direction -> box frame is a rotation by -yaw about z
  Eigen::Vector3d half;          // half length (x), width (y), height (z) of the solid part
  int label;
  float reflectivity;
};

// Base reflectivity of the ground surfaces: dark asphalt, lighter concrete, vegetation-ish.
float ground_reflectivity(int lidarseg_index) {
  switch (lidarseg_index) {
    case 24:
      return 10.0f;
    case 26:
      return 25.0f;
    default:
      return 15.0f;
  }
}

void add_cast_box(std::vector<CastBox>& boxes, const SynthBox& box, double solid_fraction,
                  int label, float reflectivity, const Eigen::Vector3d& sensor_origin) {
  CastBox cast;
  cast.cos_yaw = std::cos(box.yaw);
  cast.sin_yaw = std::sin(box.yaw);
  const double solid_height = box.wlh.z() * solid_fraction;
  cast.half = {box.wlh.y() / 2, box.wlh.x() / 2, solid_height / 2};
  // The solid part sits at the bottom of the box.
  const Eigen::Vector3d center(box.center.x(), box.center.y(),
                               box.center.z() - box.wlh.z() / 2 + solid_height / 2);
  const Eigen::Vector3d d = sensor_origin - center;
  cast.origin_local = {cast.cos_yaw * d.x() + cast.sin_yaw * d.y(),
                       -cast.sin_yaw * d.x() + cast.cos_yaw * d.y(), d.z()};
  cast.label = label;
  cast.reflectivity = reflectivity;
  boxes.push_back(cast);
}

// Slab test in the box frame. Returns the entry distance (> 0) or +inf, and the axis of the
// entry face. IEEE division by a zero direction component gives +-inf, which the min/max
// handle: the ray is then inside that slab for all s or for none.
double intersect(const CastBox& box, const Eigen::Vector3d& dir_global, int& axis) {
  const double dir[3] = {box.cos_yaw * dir_global.x() + box.sin_yaw * dir_global.y(),
                         -box.sin_yaw * dir_global.x() + box.cos_yaw * dir_global.y(),
                         dir_global.z()};
  double near = -std::numeric_limits<double>::infinity();
  double far = std::numeric_limits<double>::infinity();
  for (int a = 0; a < 3; ++a) {
    const double inv = 1.0 / dir[a];
    double s1 = (-box.half[a] - box.origin_local[a]) * inv;
    double s2 = (box.half[a] - box.origin_local[a]) * inv;
    if (s1 > s2) std::swap(s1, s2);
    if (s1 > near) {
      near = s1;
      axis = a;
    }
    far = std::min(far, s2);
    if (!(near <= far)) return std::numeric_limits<double>::infinity();
  }
  // A sensor inside a box sees nothing of it (near < 0): such a box is not an obstacle.
  return near > 0 ? near : std::numeric_limits<double>::infinity();
}

double box_direction_component(const CastBox& box, const Eigen::Vector3d& dir_global, int axis) {
  if (axis == 2) return dir_global.z();
  if (axis == 0) return box.cos_yaw * dir_global.x() + box.sin_yaw * dir_global.y();
  return -box.sin_yaw * dir_global.x() + box.cos_yaw * dir_global.y();
}

}  // namespace

LidarScan cast_lidar(const SynthScene& scene, double t, const RigidTransform& sensor_to_global,
                     const LidarModel& model, std::mt19937_64& rng) {
  PTQAT_ASSERT(model.beams >= 2 && model.azimuth_steps >= 1 && model.max_range > 0,
               "bad LidarModel: {} beams, {} azimuth steps", model.beams, model.azimuth_steps);
  const Eigen::Vector3d origin = sensor_to_global.translation;
  const Eigen::Matrix3d rotation = sensor_to_global.rotation.toRotationMatrix();
  const int64_t steps = model.azimuth_steps;
  const double step_angle = 2.0 * M_PI / static_cast<double>(steps);

  // Prepare the boxes once per sweep and cull those out of range.
  std::vector<CastBox> boxes;
  boxes.reserve(scene.objects.size() + scene.structures.size());
  for (const SynthObject& object : scene.objects) {
    if (!object.alive_at(t)) continue;
    add_cast_box(boxes, object.box_at(t), object.solid_fraction, object.lidarseg_index,
                 object.reflectivity, origin);
  }
  for (const SynthStructure& structure : scene.structures) {
    add_cast_box(boxes, structure.box, 1.0, structure.lidarseg_index, structure.reflectivity,
                 origin);
  }

  // Bucket boxes by azimuth column. A box lies inside its bounding sphere, whose projection on
  // the sensor's xy plane is a disc of the same radius; a ray can only hit the box if its
  // horizontal direction passes through that disc, i.e. its azimuth is within asin(r / d_xy)
  // of the disc centre's. This holds for any sensor tilt, unlike a global-yaw test.
  std::vector<std::vector<int>> columns(static_cast<size_t>(steps));
  for (size_t b = 0; b < boxes.size(); ++b) {
    const CastBox& box = boxes[b];
    const double radius = box.half.norm();
    if (box.origin_local.norm() - radius > model.max_range) continue;
    // Box centre in the sensor frame (origin_local is the sensor in the box frame: undo it).
    const Eigen::Vector3d center_box(-box.origin_local.x(), -box.origin_local.y(),
                                     -box.origin_local.z());
    const Eigen::Vector3d center_rel(box.cos_yaw * center_box.x() - box.sin_yaw * center_box.y(),
                                     box.sin_yaw * center_box.x() + box.cos_yaw * center_box.y(),
                                     center_box.z());
    const Eigen::Vector3d c = rotation.transpose() * center_rel;
    const double dxy = std::hypot(c.x(), c.y());
    int64_t first = 0, last = steps - 1;
    if (dxy > radius * 1.000001) {
      const double half_angle = std::asin(radius / dxy), azimuth = std::atan2(c.y(), c.x());
      first = static_cast<int64_t>(std::floor((azimuth - half_angle) / step_angle)) - 1;
      last = static_cast<int64_t>(std::ceil((azimuth + half_angle) / step_angle)) + 1;
      last = std::min(last, first + steps - 1);
    }
    for (int64_t j = first; j <= last; ++j) {
      columns[static_cast<size_t>(((j % steps) + steps) % steps)].push_back(static_cast<int>(b));
    }
  }

  std::vector<double> beam_sin(static_cast<size_t>(model.beams));
  std::vector<double> beam_cos(static_cast<size_t>(model.beams));
  for (int64_t r = 0; r < model.beams; ++r) {
    const double elevation = (model.elevation_bottom_deg +
                              (model.elevation_top_deg - model.elevation_bottom_deg) *
                                  static_cast<double>(r) / static_cast<double>(model.beams - 1)) *
                             M_PI / 180.0;
    beam_sin[static_cast<size_t>(r)] = std::sin(elevation);
    beam_cos[static_cast<size_t>(r)] = std::cos(elevation);
  }

  std::vector<float> points;
  std::vector<uint8_t> labels;
  points.reserve(static_cast<size_t>(steps * model.beams * 5));
  labels.reserve(static_cast<size_t>(steps * model.beams));
  for (int64_t j = 0; j < steps; ++j) {
    const double azimuth = step_angle * static_cast<double>(j);
    const double ca = std::cos(azimuth), sa = std::sin(azimuth);
    const std::vector<int>& candidates = columns[static_cast<size_t>(j)];
    for (int64_t r = 0; r < model.beams; ++r) {
      const size_t ri = static_cast<size_t>(r);
      const Eigen::Vector3d dir_sensor(beam_cos[ri] * ca, beam_cos[ri] * sa, beam_sin[ri]);
      const Eigen::Vector3d dir = rotation * dir_sensor;
      double best = std::numeric_limits<double>::infinity();
      int label = 0;
      float reflectivity = 0;
      double incidence = 1.0;  // |cos| of the angle between ray and surface normal
      if (dir.z() < 0 && origin.z() > 0) {
        best = -origin.z() / dir.z();
        incidence = -dir.z();
        const Eigen::Vector3d hit = origin + best * dir;
        label =
            scene.ground.lidarseg_index_at(hit.head<2>(), scene.road_origin, scene.road_heading);
        reflectivity = ground_reflectivity(label);
      }
      for (const int b : candidates) {
        const CastBox& box = boxes[static_cast<size_t>(b)];
        int axis = 0;
        const double s = intersect(box, dir, axis);
        if (s < best) {
          best = s;
          label = box.label;
          reflectivity = box.reflectivity;
          incidence = std::abs(box_direction_component(box, dir, axis));
        }
      }
      if (!(best <= model.max_range)) continue;
      // One Box-Muller pair per point: range noise and intensity noise.
      const auto [n_range, n_intensity] = synth_normal_pair(rng);
      const double range = std::max(0.0, best + model.range_noise_std * n_range);
      // Intensity falls off mildly with range and with grazing incidence.
      const double intensity =
          reflectivity * (1.0 - 0.3 * best / model.max_range) * (0.4 + 0.6 * incidence) +
          2.0 * n_intensity;
      points.push_back(static_cast<float>(dir_sensor.x() * range));
      points.push_back(static_cast<float>(dir_sensor.y() * range));
      points.push_back(static_cast<float>(dir_sensor.z() * range));
      points.push_back(static_cast<float>(std::clamp(intensity, 0.0, 100.0)));
      points.push_back(static_cast<float>(r));
      labels.push_back(static_cast<uint8_t>(label));
    }
  }

  const int64_t n = static_cast<int64_t>(labels.size());
  LidarScan scan;
  scan.points = torch::from_blob(points.data(), {n, 5}, torch::kFloat32).clone();
  scan.labels = torch::from_blob(labels.data(), {n}, torch::kUInt8).clone();
  return scan;
}

}  // namespace ptqat::datasets
