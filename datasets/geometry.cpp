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

torch::Tensor transform_points(const torch::Tensor& points, const RigidTransform& transform) {
  const torch::Tensor input = points.contiguous();
  const int64_t count = input.size(0), stride = input.size(1);
  const float* in = input.data_ptr<float>();
  torch::Tensor output = torch::empty({count, 3}, torch::kFloat32);
  float* out = output.data_ptr<float>();
  const Eigen::Matrix4d m = transform.matrix();
  for (int64_t i = 0; i < count; ++i) {
    const double x = in[i * stride], y = in[i * stride + 1], z = in[i * stride + 2];
    for (int r = 0; r < 3; ++r) {
      out[3 * i + r] = static_cast<float>(m(r, 0) * x + m(r, 1) * y + m(r, 2) * z + m(r, 3));
    }
  }
  return output;
}

torch::Tensor points_in_box(const torch::Tensor& points, const Eigen::Vector3d& center,
                            const Eigen::Vector3d& wlh, const Eigen::Quaterniond& rotation) {
  // utils/geometry_utils.py points_in_box: corners p1 (0), p_x (4), p_y (1), p_z (3) of
  // Box.corners(), then 0 <= v.i <= i.i for i = p_x - p1, p_y - p1, p_z - p1, v = p - p1.
  const Eigen::Matrix3d r = rotation.toRotationMatrix();
  const double l = wlh.y(), w = wlh.x(), h = wlh.z();
  const auto corner = [&](double x, double y, double z) {
    return Eigen::Vector3d(r * Eigen::Vector3d(x, y, z) + center);
  };
  const Eigen::Vector3d p1 = corner(l / 2, w / 2, h / 2);
  const Eigen::Vector3d i = corner(-l / 2, w / 2, h / 2) - p1;
  const Eigen::Vector3d j = corner(l / 2, -w / 2, h / 2) - p1;
  const Eigen::Vector3d k = corner(l / 2, w / 2, -h / 2) - p1;
  const torch::Tensor input = points.slice(1, 0, 3).to(torch::kFloat64).contiguous();
  const double* p = input.data_ptr<double>();
  torch::Tensor inside = torch::empty({input.size(0)}, torch::kBool);
  bool* out = inside.data_ptr<bool>();
  const double ii = i.dot(i), jj = j.dot(j), kk = k.dot(k);
  for (int64_t n = 0; n < input.size(0); ++n) {
    const Eigen::Vector3d v = Eigen::Vector3d(p[3 * n], p[3 * n + 1], p[3 * n + 2]) - p1;
    const double vi = v.dot(i), vj = v.dot(j), vk = v.dot(k);
    out[n] = 0 <= vi && vi <= ii && 0 <= vj && vj <= jj && 0 <= vk && vk <= kk;
  }
  return inside;
}

double quaternion_yaw(const Eigen::Quaterniond& q) {
  const Eigen::Matrix3d r = q.toRotationMatrix();
  return std::atan2(r(1, 0), r(0, 0));
}

}  // namespace ptqat::datasets
