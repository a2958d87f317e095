#include "datasets/synth/synth_world.h"

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "datasets/nuscenes/categories.h"

namespace ptqat::datasets {
namespace {

struct Nominal {
  double w, l, h;
  int lidarseg_index;
};

// Independent copy of the brief's size table and docs/nuscenes.md 5a indices.
const std::map<std::string, Nominal>& nominal_sizes() {
  static const std::map<std::string, Nominal> table = {
      {"vehicle.car", {1.95, 4.6, 1.73, 17}},
      {"vehicle.truck", {2.5, 6.9, 2.8, 23}},
      {"vehicle.bus.rigid", {2.95, 11.2, 3.5, 16}},
      {"vehicle.trailer", {2.9, 12.3, 3.9, 22}},
      {"vehicle.construction", {2.8, 6.4, 3.2, 18}},
      {"human.pedestrian.adult", {0.67, 0.73, 1.77, 2}},
      {"vehicle.motorcycle", {0.77, 2.1, 1.47, 21}},
      {"vehicle.bicycle", {0.6, 1.7, 1.28, 14}},
      {"movable_object.trafficcone", {0.41, 0.41, 1.07, 12}},
      {"movable_object.barrier", {2.5, 0.5, 0.98, 9}},
  };
  return table;
}

// Corners of a box's footprint, counter-clockwise.
std::array<Eigen::Vector2d, 4> footprint(const SynthBox& box) {
  const Eigen::Rotation2Dd r(box.yaw);
  const double hl = box.wlh.y() / 2, hw = box.wlh.x() / 2;
  return {Eigen::Vector2d(box.center.head<2>() + r * Eigen::Vector2d(hl, hw)),
          Eigen::Vector2d(box.center.head<2>() + r * Eigen::Vector2d(-hl, hw)),
          Eigen::Vector2d(box.center.head<2>() + r * Eigen::Vector2d(-hl, -hw)),
          Eigen::Vector2d(box.center.head<2>() + r * Eigen::Vector2d(hl, -hw))};
}

// Separating-axis test for two convex quadrilaterals.
bool footprints_intersect(const SynthBox& a, const SynthBox& b) {
  const auto pa = footprint(a), pb = footprint(b);
  for (const auto* poly : {&pa, &pb}) {
    for (size_t e = 0; e < 4; ++e) {
      const Eigen::Vector2d edge = (*poly)[(e + 1) % 4] - (*poly)[e];
      const Eigen::Vector2d normal(-edge.y(), edge.x());
      double amin = 1e300, amax = -1e300, bmin = 1e300, bmax = -1e300;
      for (const auto& p : pa)
        amin = std::min(amin, normal.dot(p)), amax = std::max(amax, normal.dot(p));
      for (const auto& p : pb)
        bmin = std::min(bmin, normal.dot(p)), bmax = std::max(bmax, normal.dot(p));
      if (amax < bmin || bmax < amin) return false;
    }
  }
  return true;
}

void expect_same_scene(const SynthScene& a, const SynthScene& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.road_origin, b.road_origin);
  EXPECT_EQ(a.road_heading, b.road_heading);
  EXPECT_EQ(a.ego_speed, b.ego_speed);
  ASSERT_EQ(a.objects.size(), b.objects.size());
  for (size_t i = 0; i < a.objects.size(); ++i) {
    EXPECT_EQ(a.objects[i].category, b.objects[i].category);
    EXPECT_EQ(a.objects[i].attribute, b.objects[i].attribute);
    EXPECT_EQ(a.objects[i].start, b.objects[i].start);
    EXPECT_EQ(a.objects[i].velocity, b.objects[i].velocity);
    EXPECT_EQ(a.objects[i].wlh, b.objects[i].wlh);
    EXPECT_EQ(a.objects[i].t_end, b.objects[i].t_end);
  }
  ASSERT_EQ(a.structures.size(), b.structures.size());
  for (size_t i = 0; i < a.structures.size(); ++i) {
    EXPECT_EQ(a.structures[i].box.center, b.structures[i].box.center);
  }
}

TEST(SynthWorld, SameSeedAndIndexGiveTheSameScene) {
  expect_same_scene(make_synth_scene(3, 42, 20.0), make_synth_scene(3, 42, 20.0));
}

TEST(SynthWorld, DifferentSeedsAndIndicesDiffer) {
  const SynthScene a = make_synth_scene(3, 42, 20.0);
  const SynthScene b = make_synth_scene(3, 43, 20.0);
  const SynthScene c = make_synth_scene(4, 42, 20.0);
  EXPECT_NE(a.road_origin, b.road_origin);
  EXPECT_NE(a.road_origin, c.road_origin);
  EXPECT_NE(a.objects.front().start, b.objects.front().start);
}

TEST(SynthWorld, NamesAndLocationsFollowTheIndex) {
  EXPECT_EQ(make_synth_scene(0, 1, 2.0).name, "scene-0001");
  EXPECT_EQ(make_synth_scene(41, 1, 2.0).name, "scene-0042");
  EXPECT_EQ(make_synth_scene(0, 1, 2.0).location, "boston-seaport");
  EXPECT_EQ(make_synth_scene(3, 1, 2.0).location, "singapore-hollandvillage");
  EXPECT_EQ(make_synth_scene(4, 1, 2.0).location, "boston-seaport");
}

TEST(SynthWorld, AllDetectionClassesAppearWithNominalSizes) {
  std::set<int> classes;
  for (int64_t index : {0, 1}) {
    const SynthScene scene = make_synth_scene(index, 7, 20.0);
    EXPECT_GE(scene.objects.size(), 25u);
    EXPECT_LE(scene.objects.size(), 42u);  // 40 plus at most two bicycles parked in a last rack
    for (const SynthObject& object : scene.objects) {
      const int cls = detection_class_of(object.category);
      if (cls >= 0) classes.insert(cls);
      const auto it = nominal_sizes().find(object.category);
      if (it == nominal_sizes().end()) continue;
      const Nominal& n = it->second;
      EXPECT_EQ(object.lidarseg_index, n.lidarseg_index) << object.category;
      EXPECT_GE(object.wlh.x(), 0.9 * n.w - 1e-9) << object.category;
      EXPECT_LE(object.wlh.x(), 1.1 * n.w + 1e-9) << object.category;
      EXPECT_GE(object.wlh.y(), 0.9 * n.l - 1e-9) << object.category;
      EXPECT_LE(object.wlh.y(), 1.1 * n.l + 1e-9) << object.category;
      EXPECT_GE(object.wlh.z(), 0.9 * n.h - 1e-9) << object.category;
      EXPECT_LE(object.wlh.z(), 1.1 * n.h + 1e-9) << object.category;
      // Boxes stand on the ground.
      EXPECT_NEAR(object.start.z(), object.wlh.z() / 2, 1e-12);
    }
  }
  EXPECT_EQ(classes.size(), 10u);
}

TEST(SynthWorld, AttributesMatchMotion) {
  const SynthScene scene = make_synth_scene(2, 11, 20.0);
  for (const SynthObject& object : scene.objects) {
    const bool moving = object.velocity.norm() > 0;
    if (moving) {
      EXPECT_TRUE(object.attribute == "vehicle.moving" || object.attribute == "cycle.with_rider" ||
                  object.attribute == "pedestrian.moving")
          << object.category << " " << object.attribute;
      // Driving forward: the velocity points along the box's x axis.
      EXPECT_GT(
          object.velocity.x() * std::cos(object.yaw) + object.velocity.y() * std::sin(object.yaw),
          0.0);
    } else {
      EXPECT_TRUE(object.attribute != "vehicle.moving" && object.attribute != "pedestrian.moving")
          << object.category;
    }
    if (object.category == "movable_object.trafficcone" ||
        object.category == "movable_object.barrier") {
      EXPECT_EQ(object.attribute, "");
    }
    EXPECT_LE(object.t_begin, object.t_end);
  }
}

TEST(SynthWorld, BoxesNeverIntersectEachOtherOrTheEgo) {
  for (int64_t index : {0, 1, 2}) {
    const SynthScene scene = make_synth_scene(index, 5, 20.0);
    for (double t : {0.0, 5.0, 10.0, 15.0, 20.0}) {
      // The ego body: 1 m behind the rear axle to 4 m ahead of it, 2 m wide.
      const Eigen::Vector3d ego = scene.ego_translation(t);
      const double yaw = scene.ego_yaw(t);
      SynthBox ego_box{ego + Eigen::Vector3d(std::cos(yaw), std::sin(yaw), 0) * 1.5,
                       Eigen::Vector3d(2.0, 5.0, 1.5), yaw};
      for (size_t a = 0; a < scene.objects.size(); ++a) {
        const SynthObject& oa = scene.objects[a];
        if (!oa.alive_at(t)) continue;
        EXPECT_FALSE(footprints_intersect(oa.box_at(t), ego_box)) << oa.category << " t=" << t;
        for (size_t b = a + 1; b < scene.objects.size(); ++b) {
          const SynthObject& ob = scene.objects[b];
          // Bicycles stand inside their rack's box, as in nuScenes.
          if (!ob.alive_at(t) || oa.category == "static_object.bicycle_rack" ||
              ob.category == "static_object.bicycle_rack") {
            continue;
          }
          EXPECT_FALSE(footprints_intersect(oa.box_at(t), ob.box_at(t)))
              << scene.name << " t=" << t << " " << oa.category << " vs " << ob.category;
        }
      }
    }
  }
}

TEST(SynthWorld, ObjectsStayNearTheEgoPath) {
  const SynthScene scene = make_synth_scene(0, 9, 20.0);
  const Eigen::Vector2d p0 = scene.ego_translation(0).head<2>();
  const Eigen::Vector2d p1 = scene.ego_translation(scene.duration).head<2>();
  const auto distance_to_path = [&](const Eigen::Vector2d& q) {
    const Eigen::Vector2d d = p1 - p0;
    const double s = std::clamp((q - p0).dot(d) / d.squaredNorm(), 0.0, 1.0);
    return (p0 + s * d - q).norm();
  };
  for (const SynthObject& object : scene.objects) {
    for (double t = object.t_begin; t <= object.t_end; t += 0.5) {
      EXPECT_LE(distance_to_path(object.box_at(t).center.head<2>()), 60.0) << object.category;
    }
  }
}

TEST(SynthWorld, EgoDrivesInTheRightHandLane) {
  const SynthScene scene = make_synth_scene(5, 3, 20.0);
  EXPECT_GE(scene.ego_speed, 5.0);
  EXPECT_LE(scene.ego_speed, 12.0);
  const Eigen::Vector3d a = scene.ego_translation(2.0), b = scene.ego_translation(3.0);
  EXPECT_EQ(a.z(), 0.0);
  EXPECT_NEAR((b - a).norm(), scene.ego_speed, 1e-9);
  EXPECT_NEAR(std::atan2(b.y() - a.y(), b.x() - a.x()), scene.ego_yaw(2.0), 1e-9);
  // The lane centre is 1.75 m to the right of the road axis, which is driveable surface.
  EXPECT_EQ(scene.ground.lidarseg_index_at(a.head<2>(), scene.road_origin, scene.road_heading), 24);
}

TEST(SynthWorld, GroundBandsAcrossTheRoad) {
  SynthGround ground;  // 7 m half width, 3 m sidewalk
  const Eigen::Vector2d origin(100, 50);
  const double heading = M_PI / 2;  // the road runs along +y; road-frame y (left) is global -x
  EXPECT_EQ(ground.lidarseg_index_at({100 - 6.9, 80}, origin, heading), 24);
  EXPECT_EQ(ground.lidarseg_index_at({100 + 6.9, 80}, origin, heading), 24);
  EXPECT_EQ(ground.lidarseg_index_at({100 - 7.5, 80}, origin, heading), 26);
  EXPECT_EQ(ground.lidarseg_index_at({100 + 9.9, 80}, origin, heading), 26);
  EXPECT_EQ(ground.lidarseg_index_at({100 + 10.1, 80}, origin, heading), 27);
}

TEST(SynthWorld, PortableRandomNumbers) {
  std::mt19937_64 rng(1);
  double sum = 0, sum_sq = 0, lo = 1, hi = 0;
  constexpr int kCount = 200000;
  for (int i = 0; i < kCount; ++i) {
    const double u = synth_uniform(rng);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    const double n = synth_normal(rng);
    sum += n;
    sum_sq += n * n;
  }
  EXPECT_GE(lo, 0.0);
  EXPECT_LT(hi, 1.0);
  EXPECT_NEAR(sum / kCount, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / kCount, 1.0, 0.02);
  // The raw engine is standardised: the first output of mt19937_64 seeded with 5489 is fixed.
  std::mt19937_64 standard;
  EXPECT_EQ(synth_uniform(standard),
            static_cast<double>(14514284786278117030ULL >> 11) * 0x1.0p-53);
}

}  // namespace
}  // namespace ptqat::datasets
