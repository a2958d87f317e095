#include "datasets/nuscenes/lidar_sweeps.h"

#include <cmath>
#include <cstring>

#include "datasets/nuscenes/point_cloud_file.h"

namespace ptqat::datasets {

namespace {

struct SweepToRead {
  Row sample_data;
  Eigen::Matrix4d to_reference;  ///< sweep sensor -> keyframe sensor
  float time_lag;                ///< seconds
};

}  // namespace

AggregatedSweeps aggregate_sweeps(const NuScenes& nusc, Row sample, int64_t nsweeps,
                                  double min_distance) {
  const auto& sample_data = nusc.tables().sample_data;
  const Row keyframe = nusc.tables().sample[sample].lidar_top;
  const double reference_time = 1e-6 * static_cast<double>(sample_data[keyframe].timestamp);
  const RigidTransform global_to_reference =
      (nusc.ego_to_global(keyframe) * nusc.sensor_to_ego(keyframe)).inverse();

  std::vector<SweepToRead> sweeps;
  // Per-thread file buffers, reused from sample to sample (loader workers call this in a loop).
  thread_local std::vector<std::vector<float>> files;
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (Row current = keyframe; current != kNoRow && static_cast<int64_t>(sweeps.size()) < nsweeps;
       current = sample_data[current].prev) {
    const RigidTransform to_reference =
        global_to_reference * nusc.ego_to_global(current) * nusc.sensor_to_ego(current);
    // The devkit's `times` channel: reference time minus sweep time, each in seconds.
    const double lag = reference_time - 1e-6 * static_cast<double>(sample_data[current].timestamp);
    sweeps.push_back({current, to_reference.matrix(), static_cast<float>(lag)});
    if (files.size() < sweeps.size()) files.resize(sweeps.size());
    counts.push_back(read_lidar_points_into(nusc.path_of(sample_data[current].filename),
                                            files[sweeps.size() - 1]));
    total += counts.back();
  }

  AggregatedSweeps out;
  out.sweeps = static_cast<int64_t>(sweeps.size());
  out.keyframe_points = counts[0];
  torch::Tensor points = torch::empty({total, 5}, torch::kFloat32);
  float* destination = points.data_ptr<float>();
  // The keyframe stays as it is (only its ring column becomes the time lag 0), so its points
  // keep their file order and stay aligned with the lidarseg labels.
  std::memcpy(destination, files[0].data(), counts[0] * 5 * sizeof(float));
  for (int64_t i = 0; i < out.keyframe_points; ++i) destination[5 * i + 4] = 0.0f;
  int64_t written = out.keyframe_points;
  for (size_t k = 1; k < sweeps.size(); ++k) {
    const Eigen::Matrix4d& m = sweeps[k].to_reference;
    const float* source = files[k].data();
    for (int64_t i = 0; i < counts[k]; ++i) {
      const float* p = source + 5 * i;
      // The devkit's remove_close: a square in the sweep's own sensor frame.
      if (std::abs(p[0]) < min_distance && std::abs(p[1]) < min_distance) continue;
      // As the devkit does: one composed float64 transform, stored back as float32.
      const double x = p[0], y = p[1], z = p[2];
      float* q = destination + 5 * written++;
      q[0] = static_cast<float>(m(0, 0) * x + m(0, 1) * y + m(0, 2) * z + m(0, 3));
      q[1] = static_cast<float>(m(1, 0) * x + m(1, 1) * y + m(1, 2) * z + m(1, 3));
      q[2] = static_cast<float>(m(2, 0) * x + m(2, 1) * y + m(2, 2) * z + m(2, 3));
      q[3] = p[3];
      q[4] = sweeps[k].time_lag;
    }
  }
  out.points = written == total ? points : points.slice(0, 0, written).clone();
  return out;
}

}  // namespace ptqat::datasets
