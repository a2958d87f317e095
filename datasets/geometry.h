#pragma once
// Rigid transforms and quaternions in the nuScenes conventions (docs/nuscenes.md section 4):
// quaternions are [w, x, y, z]; calibrated_sensor maps sensor -> ego, ego_pose maps ego -> global.

#include <torch/torch.h>

#include <Eigen/Geometry>
#include <array>

namespace ptqat::datasets {

using Vec3 = std::array<double, 3>;
using Quat = std::array<double, 4>;  ///< w, x, y, z

/// p' = rotation * p + translation.
struct RigidTransform {
  Eigen::Quaterniond rotation = Eigen::Quaterniond::Identity();
  Eigen::Vector3d translation = Eigen::Vector3d::Zero();

  static RigidTransform from(const Quat& rotation, const Vec3& translation);
  RigidTransform inverse() const;
  /// (this * other)(p) = this(other(p)).
  RigidTransform operator*(const RigidTransform& other) const;
  Eigen::Vector3d apply(const Eigen::Vector3d& point) const;
  /// 4x4 homogeneous matrix.
  Eigen::Matrix4d matrix() const;
};

Eigen::Quaterniond to_eigen(const Quat& q);

/// x, y, z of `points` ([N, >=3] float32) moved by `transform` in float64 (as the devkit does),
/// as a new [N, 3] float32 tensor. A plain loop: BLAS would spin up threads for a 3x3 product.
torch::Tensor transform_points(const torch::Tensor& points, const RigidTransform& transform);

/// The devkit's points_in_box: which of `points` ([N, >=3] float32, same frame as the box) lie
/// inside the box with centre `center`, size `wlh` (length along the box x axis) and rotation
/// `rotation`, inclusive on all six faces (0 <= v.i <= i.i along the three edges from corner 0).
/// Returns [N] bool.
torch::Tensor points_in_box(const torch::Tensor& points, const Eigen::Vector3d& center,
                            const Eigen::Vector3d& wlh, const Eigen::Quaterniond& rotation);

/// The devkit's quaternion_yaw: atan2(R[1,0], R[0,0]), the box x axis projected on the xy plane.
double quaternion_yaw(const Eigen::Quaterniond& q);

}  // namespace ptqat::datasets
