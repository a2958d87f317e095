#pragma once
// Ray-cast LiDAR for the synthetic world: a spinning 32-beam sensor with the nuScenes HDL-32E
// geometry, hitting the ground plane, the alive objects and the static structures of a
// SynthScene. The output is one sweep as a `.pcd.bin` holds it (docs/nuscenes.md section 3).

#include <torch/torch.h>

#include <cstdint>
#include <random>

#include "datasets/geometry.h"
#include "datasets/synth/synth_world.h"

namespace ptqat::datasets {

/// Sensor geometry. Beams are evenly spaced in elevation from elevation_bottom_deg (ring 0) to
/// elevation_top_deg (ring beams-1): ring 0 is the lowest beam. Azimuth step j points at
/// 2*pi*j/azimuth_steps from the sensor x axis, counter-clockwise about z.
struct LidarModel {
  int64_t beams = 32;
  double elevation_top_deg = 10.67;
  double elevation_bottom_deg = -30.67;
  int64_t azimuth_steps = 1084;   ///< rays per beam and revolution (~34.7k rays per sweep)
  double max_range = 70.0;        ///< metres; rays with no hit within it give no point
  double range_noise_std = 0.02;  ///< metres, gaussian along the ray
};

/// One sweep in the sensor frame.
struct LidarScan {
  torch::Tensor points;  ///< [N, 5] float32: x, y, z, intensity 0..100, ring 0..beams-1
  torch::Tensor labels;  ///< [N] uint8: lidarseg index (category.json) of the surface hit
};

/// Casts every ray of one revolution at scene time `t` (the whole revolution at one instant:
/// no motion within a sweep) from the sensor placed by `sensor_to_global`. The nearest hit among
/// ground (z = 0), the objects alive at t and the structures wins; its range gets gaussian
/// noise drawn from `rng`, and its intensity is the surface reflectivity attenuated with range
/// and incidence plus noise. Points come out in firing order: azimuth step by step, all beams of
/// a step bottom ring first.
/// Deterministic given the rng state; single-threaded.
LidarScan cast_lidar(const SynthScene& scene, double t, const RigidTransform& sensor_to_global,
                     const LidarModel& model, std::mt19937_64& rng);

}  // namespace ptqat::datasets
