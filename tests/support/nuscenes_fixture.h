#pragma once
// Builds small nuScenes-format datasets on disk for tests: tables with resolved links, LiDAR
// files, lidarseg labels and Occ3D files, all with geometry the test chooses, so expected
// values can be computed by hand.

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "datasets/nuscenes/nuscenes_tables.h"

namespace ptqat::testing {

using datasets::Quat;
using datasets::Token;
using datasets::Vec3;

/// Quaternion [w, x, y, z] of a rotation by `yaw` radians about z.
Quat yaw_quaternion(double yaw);

class NuScenesFixture {
 public:
  /// Starts a dataset with the 32 lidarseg categories (with 'index'), the 8 attributes, the 4
  /// visibilities, one LIDAR_TOP sensor calibrated at `lidar_translation`/`lidar_rotation`.
  explicit NuScenesFixture(Vec3 lidar_translation = {0.94, 0.0, 1.84},
                           Quat lidar_rotation = {0.7071067811865476, 0, 0, -0.7071067811865476});

  /// A new scene (with its own log); later samples and sweeps go to the newest scene.
  void add_scene(const std::string& name);
  /// A keyframe: a sample and its LIDAR_TOP sample_data at `timestamp_us` with the ego pose.
  Token add_sample(int64_t timestamp_us, Vec3 ego_translation, Quat ego_rotation);
  /// A non-key LIDAR_TOP sweep; it belongs to the next keyframe added (or the last one).
  Token add_sweep(int64_t timestamp_us, Vec3 ego_translation, Quat ego_rotation);
  /// A box annotation on `sample`; annotations with the same `instance` are linked in order.
  Token add_annotation(const Token& sample, const std::string& instance,
                       const std::string& category, Vec3 translation, Vec3 size, Quat rotation,
                       const std::string& attribute = "", int64_t num_lidar_pts = 10);

  /// Points of a sample_data ([N, 5] float32); unset ones get `default_points` random points.
  void set_points(const Token& sample_data, torch::Tensor points);
  /// lidarseg label values (category.json index, uint8) of a keyframe sample_data.
  void set_lidarseg(const Token& sample_data, torch::Tensor labels);

  int64_t default_points = 64;
  bool write_lidarseg = true;
  bool write_occupancy = true;
  bool compress_occupancy = true;
  std::map<std::string, std::vector<std::string>> custom_splits;  ///< written to splits.json

  /// Writes everything under `dataroot` with version folder `version`.
  void write(const std::string& dataroot, const std::string& version = "v1.0-mini");

  datasets::Tables& tables() { return tables_; }
  /// The LIDAR_TOP keyframe sample_data token of a sample.
  Token keyframe_of(const Token& sample) const;
  /// Token of the category with this name.
  Token category(const std::string& name) const;

 private:
  Token next_token();
  Token add_sample_data(int64_t timestamp_us, Vec3 ego_translation, Quat ego_rotation,
                        bool keyframe);

  datasets::Tables tables_;
  uint64_t counter_ = 0;
  Token calibrated_sensor_;
  std::vector<size_t> pending_sweeps_;  ///< sweeps waiting for their keyframe
  std::map<std::string, size_t> last_annotation_of_instance_;
  std::map<std::string, torch::Tensor> points_, lidarseg_;  ///< by sample_data token hex
};

/// A ready dataset: scenes `names`, each with `samples` keyframes 0.5 s apart and `sweeps`
/// sweeps 0.05 s apart before each keyframe, an ego driving +x at 5 m/s, and one car and one
/// pedestrian track per scene.
NuScenesFixture standard_fixture(const std::vector<std::string>& names = {"scene-0061",
                                                                          "scene-0103"},
                                 int samples = 3, int sweeps = 2);

}  // namespace ptqat::testing
