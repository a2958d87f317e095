#pragma once
// The synthetic world behind `ptqat data synth`: one scene = a straight road with lanes and
// sidewalks, an ego vehicle driving along it, annotated objects of the 10 detection classes (and
// a few other categories) on straight constant-velocity tracks, and static structures
// (buildings, vegetation, poles). Everything is a deterministic function of (scene index, seed).
//
// Frames: global x/y/z in metres, z up, the ground is the plane z = 0 (nuScenes ego poses have
// z = 0). Times are seconds since the scene's first keyframe.

#include <Eigen/Core>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace ptqat::datasets {

/// An oriented box in the global frame (yaw about z; length along the box x axis, as the devkit).
struct SynthBox {
  Eigen::Vector3d center = Eigen::Vector3d::Zero();
  Eigen::Vector3d wlh = Eigen::Vector3d::Ones();  ///< width, length, height
  double yaw = 0.0;
};

/// An annotated object: one nuScenes instance, alive over [t_begin, t_end].
struct SynthObject {
  std::string category;    ///< general category name, e.g. "vehicle.car"
  std::string attribute;   ///< attribute name or "" (traffic cones, barriers)
  int lidarseg_index = 0;  ///< category.json 'index' of its points (docs/nuscenes.md 5a)
  Eigen::Vector3d wlh = Eigen::Vector3d::Ones();
  double yaw = 0.0;
  Eigen::Vector3d start = Eigen::Vector3d::Zero();     ///< box centre at t = 0
  Eigen::Vector3d velocity = Eigen::Vector3d::Zero();  ///< m/s, constant
  double t_begin = 0.0, t_end = 0.0;
  float reflectivity = 50.0f;  ///< base LiDAR intensity, 0..100
  /// Fraction of the box height, from its bottom, that is solid to the LiDAR and occupancy: 1
  /// for bodies; a bicycle rack is a low open frame around the bicycles parked in it.
  double solid_fraction = 1.0;

  SynthBox box_at(double t) const;
  bool alive_at(double t) const { return t >= t_begin && t <= t_end; }
};

/// A static, unannotated structure the LiDAR sees: building (static.manmade), vegetation
/// (static.vegetation), pole (static.manmade).
struct SynthStructure {
  SynthBox box;
  int lidarseg_index = 0;
  float reflectivity = 30.0f;
};

/// What covers the ground at a point: road, sidewalk or terrain, as lidarseg indices.
struct SynthGround {
  double road_half_width = 7.0;  ///< two lanes each way of 3.5 m
  double sidewalk_width = 3.0;
  /// category.json index of the ground surface at global (x, y).
  int lidarseg_index_at(const Eigen::Vector2d& xy, const Eigen::Vector2d& road_origin,
                        double road_heading) const;
};

struct SynthScene {
  std::string name;                                       ///< "scene-0001" style
  std::string location;                                   ///< one of the four nuScenes locations
  Eigen::Vector2d road_origin = Eigen::Vector2d::Zero();  ///< global xy where the road starts
  double road_heading = 0.0;                              ///< global yaw of the road direction
  SynthGround ground;
  double ego_speed = 8.0;  ///< m/s along the road, in its right-hand lane
  double duration = 20.0;  ///< seconds of data
  std::vector<SynthObject> objects;
  std::vector<SynthStructure> structures;

  /// Ego pose at time t: translation (z = 0) and yaw.
  Eigen::Vector3d ego_translation(double t) const;
  double ego_yaw(double t) const;
};

/// The road's right-hand lane centre in the road frame (x along the road, y left): the ego's lane.
constexpr double kSynthEgoLaneY = -1.75;

/// Scene `index` of a dataset generated with `seed`: the same arguments give the same scene.
SynthScene make_synth_scene(int64_t index, uint64_t seed, double duration_seconds);

/// Portable random numbers for the synthetic world: std::*_distribution output differs between
/// standard libraries, so every draw goes through these helpers on raw engine output.
/// A uniform double in [0, 1) from the top 53 bits of one engine output.
double synth_uniform(std::mt19937_64& rng);
/// A uniform double in [lo, hi).
double synth_uniform(std::mt19937_64& rng, double lo, double hi);
/// A pair of independent standard normals (Box-Muller on two uniforms).
std::pair<double, double> synth_normal_pair(std::mt19937_64& rng);
/// One standard normal (the first of a Box-Muller pair; the second is discarded).
double synth_normal(std::mt19937_64& rng);
/// SplitMix64 finaliser: a well-mixed 64-bit hash of `x`, used to derive engine seeds.
uint64_t splitmix64(uint64_t x);

}  // namespace ptqat::datasets
