#include "datasets/lidar_sweeps.h"

#include "datasets/point_cloud_file.h"

namespace ptqat::datasets {

namespace {

/// Drops points with |x| < r and |y| < r (the devkit's remove_close).
torch::Tensor remove_close(const torch::Tensor& points, double radius) {
  const auto x = points.select(1, 0).abs(), y = points.select(1, 1).abs();
  const auto keep = (x >= radius).logical_or(y >= radius);
  return points.index({keep});
}

}  // namespace

AggregatedSweeps aggregate_sweeps(const NuScenes& nusc, Row sample, int64_t nsweeps,
                                  double min_distance) {
  const auto& sample_data = nusc.tables().sample_data;
  const Row keyframe = nusc.tables().sample[sample].lidar_top;
  const double reference_time = 1e-6 * static_cast<double>(sample_data[keyframe].timestamp);
  // global -> keyframe sensor, composed once.
  const RigidTransform global_to_reference =
      (nusc.ego_to_global(keyframe) * nusc.sensor_to_ego(keyframe)).inverse();

  std::vector<torch::Tensor> parts;
  AggregatedSweeps out;
  Row current = keyframe;
  for (int64_t k = 0; k < nsweeps && current != kNoRow; ++k, current = sample_data[current].prev) {
    torch::Tensor points = read_lidar_points(nusc.path_of(sample_data[current].filename));
    if (k == 0) {
      out.keyframe_points = points.size(0);
    } else {
      points = remove_close(points, min_distance);
      const RigidTransform to_reference =
          global_to_reference * nusc.ego_to_global(current) * nusc.sensor_to_ego(current);
      const Eigen::Matrix4d m = to_reference.matrix();
      const auto rotation = torch::tensor(
          {m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2), m(2, 0), m(2, 1), m(2, 2)},
          torch::kFloat64).reshape({3, 3});
      const auto translation = torch::tensor({m(0, 3), m(1, 3), m(2, 3)}, torch::kFloat64);
      // Transform in float64, as the devkit does, then store float32.
      const auto xyz = points.slice(1, 0, 3).to(torch::kFloat64);
      points.slice(1, 0, 3).copy_(torch::addmm(translation, xyz, rotation.t()));
    }
    // The ring index column becomes the time lag (the devkit's `times` channel).
    const double time_lag =
        reference_time - 1e-6 * static_cast<double>(sample_data[current].timestamp);
    points.select(1, 4).fill_(time_lag);
    parts.push_back(points);
    ++out.sweeps;
  }
  out.points = parts.size() == 1 ? parts[0] : torch::cat(parts, 0);
  return out;
}

}  // namespace ptqat::datasets
