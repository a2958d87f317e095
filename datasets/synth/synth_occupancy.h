#pragma once
// Occ3D-nuScenes occupancy labels for a keyframe of the synthetic world (docs/nuscenes.md section 8):
// semantics from the scene's boxes and ground, mask_lidar from the traversal of the accumulated
// LiDAR rays, mask_camera from rays cast out of a 360-degree camera rig.

#include <torch/torch.h>

#include <Eigen/Core>
#include <vector>

#include "datasets/nuscenes/occ3d.h"
#include "datasets/synth/synth_world.h"

namespace ptqat::datasets {

/// Camera rig used for mask_camera: the six nuScenes cameras approximated as one centre at the
/// ego origin raised by `height`, covering 360 degrees horizontally and +-vertical_half_fov_deg
/// vertically, seeing voxels whose centres lie up to `range` metres away horizontally.
struct OccCameraRig {
  double height = 1.5;  ///< metres above the ego origin
  double vertical_half_fov_deg = 20.0;
  double range = 40.0;  ///< metres, horizontal
};

/// Occ3D labels of the keyframe at scene time `t`, in that time's ego frame (ego_translation(t),
/// ego_yaw(t)). Voxel (i, j, k) has its centre at (-40 + 0.4(i+0.5), -40 + 0.4(j+0.5),
/// -1 + 0.4(k+0.5)).
/// - semantics: the layer k = 2 (z in [-0.2, 0.2]) holds the ground class at each voxel's xy
///   (driveable_surface 11, sidewalk 13, terrain 14); a voxel whose centre lies strictly inside
///   the solid part of a structure or an alive object gets that box's class (the lidarseg LUT of
///   docs/nuscenes.md 5c; objects win over structures); everything else is free (17). Boxes standing
///   on the ground do not replace the ground layer, whose centres lie on their bottom face.
/// - mask_lidar: every voxel a segment ray_origins_ego[s] -> row of ray_endpoints_ego[s]
///   passes through (3D DDA), the endpoint's voxel included. Endpoint tensors are [N, >=3]
///   (x, y, z first) of any floating dtype, already in this keyframe's ego frame.
/// - mask_camera: voxels within the rig's range and field of view whose line of sight from the
///   rig centre to their centre (3D DDA) crosses no occupied voxel before reaching them; an
///   occupied voxel below the camera is also sighted just under the centre of its upper face,
///   so that the ground is seen from above (OccCameraRig).
/// Single-threaded and deterministic.
Occ3dLabels make_occupancy(const SynthScene& scene, double t,
                           const std::vector<torch::Tensor>& ray_endpoints_ego,
                           const std::vector<Eigen::Vector3d>& ray_origins_ego,
                           const OccCameraRig& camera = {});

}  // namespace ptqat::datasets
