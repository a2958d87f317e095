#include "datasets/geometry.h"

#include <cmath>

namespace ptqat::datasets {

Eigen::Quaterniond to_eigen(const Quat& q) {
  // Eigen's constructor takes (w, x, y, z), as nuScenes stores them. nuScenes quaternions are
  // unit length up to rounding; normalising keeps rotation matrices orthonormal.
  return Eigen::Quaterniond(q[0], q[1], q[2], q[3]).normalized();
}

RigidTransform RigidTransform::from(const Quat& rotation, const Vec3& translation) {
  return {to_eigen(rotation), Eigen::Vector3d(translation[0], translation[1], translation[2])};
}

RigidTransform RigidTransform::inverse() const {
  const Eigen::Quaterniond inverse_rotation = rotation.conjugate();
  return {inverse_rotation, -(inverse_rotation * translation)};
}

RigidTransform RigidTransform::operator*(const RigidTransform& other) const {
  return {rotation * other.rotation, rotation * other.translation + translation};
}

Eigen::Vector3d RigidTransform::apply(const Eigen::Vector3d& point) const {
  return rotation * point + translation;
}

Eigen::Matrix4d RigidTransform::matrix() const {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m.topLeftCorner<3, 3>() = rotation.toRotationMatrix();
  m.topRightCorner<3, 1>() = translation;
  return m;
}

double quaternion_yaw(const Eigen::Quaterniond& q) {
  const Eigen::Matrix3d r = q.toRotationMatrix();
  return std::atan2(r(1, 0), r(0, 0));
}

}  // namespace ptqat::datasets
