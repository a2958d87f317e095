#include "datasets/synth/synth_world.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace ptqat::datasets {

double synth_uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double synth_uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * synth_uniform(rng);
}

std::pair<double, double> synth_normal_pair(std::mt19937_64& rng) {
  // 1 - u lies in (0, 1], so the log is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - synth_uniform(rng)));
  const double angle = 2.0 * M_PI * synth_uniform(rng);
  return {radius * std::cos(angle), radius * std::sin(angle)};
}

double synth_normal(std::mt19937_64& rng) { return synth_normal_pair(rng).first; }

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

SynthBox SynthObject::box_at(double t) const { return {start + velocity * t, wlh, yaw}; }

int SynthGround::lidarseg_index_at(const Eigen::Vector2d& xy, const Eigen::Vector2d& road_origin,
                                   double road_heading) const {
  const Eigen::Vector2d d = xy - road_origin;
  const double y_road = -std::sin(road_heading) * d.x() + std::cos(road_heading) * d.y();
  const double lateral = std::abs(y_road);
  if (lateral <= road_half_width) return 24;                   // flat.driveable_surface
  if (lateral <= road_half_width + sidewalk_width) return 26;  // flat.sidewalk
  return 27;                                                   // flat.terrain
}

Eigen::Vector3d SynthScene::ego_translation(double t) const {
  const double c = std::cos(road_heading), s = std::sin(road_heading);
  const double x = ego_speed * t, y = kSynthEgoLaneY;
  return {road_origin.x() + c * x - s * y, road_origin.y() + s * x + c * y, 0.0};
}

double SynthScene::ego_yaw(double /*t*/) const { return road_heading; }

namespace {

// lidarseg indices (docs/nuscenes.md 5a).
constexpr int kManmade = 28;
constexpr int kVegetation = 30;

enum class Placement {
  kVehicle,
  kPedestrian,
  kBicycle,
  kMotorcycle,
  kCone,
  kBarrier,
  kPushable,
  kRack
};

struct ClassSpec {
  const char* category;
  int lidarseg_index;
  double w, l, h;
  Placement placement;
  double weight;  // relative frequency in the random fill
  double reflectivity_lo, reflectivity_hi;
};

// Sizes are nuScenes class means (w, l, h); weights roughly follow nuScenes' class frequencies.
// The first 10 rows are the detection classes, in DETECTION_NAMES order.
constexpr std::array<ClassSpec, 13> kClasses = {{
    {"vehicle.car", 17, 1.95, 4.6, 1.73, Placement::kVehicle, 30, 20, 80},
    {"vehicle.truck", 23, 2.5, 6.9, 2.8, Placement::kVehicle, 7, 30, 70},
    {"vehicle.bus.rigid", 16, 2.95, 11.2, 3.5, Placement::kVehicle, 3, 40, 60},
    {"vehicle.trailer", 22, 2.9, 12.3, 3.9, Placement::kVehicle, 2, 35, 55},
    {"vehicle.construction", 18, 2.8, 6.4, 3.2, Placement::kVehicle, 2, 50, 70},
    {"human.pedestrian.adult", 2, 0.67, 0.73, 1.77, Placement::kPedestrian, 20, 15, 40},
    {"vehicle.motorcycle", 21, 0.77, 2.1, 1.47, Placement::kMotorcycle, 4, 35, 55},
    {"vehicle.bicycle", 14, 0.6, 1.7, 1.28, Placement::kBicycle, 4, 25, 40},
    {"movable_object.trafficcone", 12, 0.41, 0.41, 1.07, Placement::kCone, 8, 80, 95},
    {"movable_object.barrier", 9, 2.5, 0.5, 0.98, Placement::kBarrier, 8, 55, 75},
    {"vehicle.emergency.police", 20, 2.0, 5.0, 1.8, Placement::kVehicle, 2, 60, 80},
    {"movable_object.pushable_pullable", 11, 0.6, 0.7, 1.1, Placement::kPushable, 3, 30, 45},
    {"static_object.bicycle_rack", 13, 2.2, 4.0, 1.1, Placement::kRack, 2, 45, 55},
}};
constexpr size_t kBicycleClass = 7;

// An object's road-frame footprint over its lifetime: an axis-aligned rectangle whose centre
// moves along x at constant speed (all tracks run parallel to the road), so two footprints
// collide iff their y ranges overlap and |dx(t)| < sum of half lengths for some shared t.
struct Footprint {
  double x0, y, vx, half_x, half_y, t_begin, t_end;
};

bool collide(const Footprint& a, const Footprint& b) {
  constexpr double kMargin = 0.4;  // keeps boxes visibly apart, not just disjoint
  if (std::abs(a.y - b.y) >= a.half_y + b.half_y + kMargin) return false;
  double lo = std::max(a.t_begin, b.t_begin), hi = std::min(a.t_end, b.t_end);
  if (lo > hi) return false;
  const double reach = a.half_x + b.half_x + kMargin;
  const double dx0 = a.x0 - b.x0, dv = a.vx - b.vx;
  if (dv == 0.0) return std::abs(dx0) < reach;
  double t1 = (-reach - dx0) / dv, t2 = (reach - dx0) / dv;
  if (t1 > t2) std::swap(t1, t2);
  return std::max(lo, t1) < std::min(hi, t2);
}

// Scene generation state, all in the road frame (x along the road, y left).
struct Builder {
  std::mt19937_64& rng;
  SynthScene& scene;
  double path_length;  // ego travel over the scene
  std::vector<Footprint> taken;

  double u(double lo, double hi) { return synth_uniform(rng, lo, hi); }
  double side() { return synth_uniform(rng) < 0.5 ? -1.0 : 1.0; }

  bool free_of_conflicts(const Footprint& f) const {
    return std::none_of(taken.begin(), taken.end(),
                        [&](const Footprint& g) { return collide(f, g); });
  }

  // Converts a road-frame placement to a global SynthObject and records its footprint.
  void add(SynthObject object, double x0, double y, double vx, double yaw_road,
           const Footprint& footprint) {
    const double h = scene.road_heading, c = std::cos(h), s = std::sin(h);
    object.start = {scene.road_origin.x() + c * x0 - s * y, scene.road_origin.y() + s * x0 + c * y,
                    object.wlh.z() / 2};
    object.velocity = {c * vx, s * vx, 0.0};
    object.yaw = std::remainder(h + yaw_road, 2.0 * M_PI);
    taken.push_back(footprint);
    scene.objects.push_back(std::move(object));
  }

  bool try_place(size_t class_index);
  void place_bicycles_in_rack(double x, double y);
};

bool Builder::try_place(size_t class_index) {
  const ClassSpec& spec = kClasses[class_index];
  const double rhw = scene.ground.road_half_width, sw = scene.ground.sidewalk_width;
  SynthObject object;
  object.category = spec.category;
  object.lidarseg_index = spec.lidarseg_index;
  object.wlh = {spec.w * u(0.9, 1.1), spec.l * u(0.9, 1.1), spec.h * u(0.9, 1.1)};
  object.reflectivity = static_cast<float>(u(spec.reflectivity_lo, spec.reflectivity_hi));
  const double w = object.wlh.x(), l = object.wlh.y();

  double y = 0, vx = 0, yaw = 0;
  const auto drive_in_lane = [&](double speed_lo, double speed_hi) {
    // Lanes: -1.75 and -5.25 with the ego's direction, +1.75 and +5.25 against it.
    const std::array<double, 4> lanes = {-5.25, -1.75, 1.75, 5.25};
    y = lanes[std::min<size_t>(3, static_cast<size_t>(u(0, 4)))] + 0.15 * synth_normal(rng);
    const double direction = y < 0 ? 1.0 : -1.0;
    vx = direction * u(speed_lo, speed_hi);
    yaw = direction > 0 ? 0.0 : M_PI;
  };
  const auto park_at_curb = [&]() {
    const double s = side();
    y = s * (rhw - w / 2 - 0.3);
    yaw = s < 0 ? 0.0 : M_PI;  // parked in the direction of traffic on that side
  };
  const auto on_sidewalk = [&](double half_width) {
    return side() * (rhw + u(0.3 + half_width, sw - 0.3 - half_width));
  };

  switch (spec.placement) {
    case Placement::kVehicle: {
      const bool heavy = spec.lidarseg_index == 22 || spec.lidarseg_index == 18;
      if (synth_uniform(rng) < (heavy ? 0.3 : 0.6)) {
        drive_in_lane(5.0, 13.0);
        object.attribute = "vehicle.moving";
      } else {
        park_at_curb();
        object.attribute = "vehicle.parked";
      }
      break;
    }
    case Placement::kMotorcycle:
      if (synth_uniform(rng) < 0.6) {
        drive_in_lane(6.0, 13.0);
        object.attribute = "cycle.with_rider";
      } else {
        park_at_curb();
        object.attribute = "cycle.without_rider";
      }
      break;
    case Placement::kBicycle:
      if (synth_uniform(rng) < 0.5) {
        // Cyclists keep to the curb side of the outer lane, with the traffic on that side.
        const double s = side();
        y = s * (rhw - 0.8);
        vx = -s * u(3.0, 7.0);
        yaw = s < 0 ? 0.0 : M_PI;
        object.attribute = "cycle.with_rider";
      } else {
        y = on_sidewalk(w / 2);
        yaw = synth_uniform(rng) < 0.5 ? 0.0 : M_PI;
        object.attribute = "cycle.without_rider";
      }
      break;
    case Placement::kPedestrian:
      y = on_sidewalk(0.5);
      if (synth_uniform(rng) < 0.6) {
        vx = side() * u(0.8, 1.6);
        yaw = vx > 0 ? 0.0 : M_PI;
        object.attribute = "pedestrian.moving";
      } else {
        yaw = u(-M_PI, M_PI);
        object.attribute = "pedestrian.standing";
      }
      break;
    case Placement::kCone:
      y = side() * (rhw - u(0.3, 1.5));
      yaw = u(-M_PI, M_PI);
      break;
    case Placement::kBarrier:
      // A barrier's long side is its width (box y axis): turn it to run along the curb.
      y = side() * (rhw - u(0.4, 1.0));
      yaw = M_PI / 2 + 0.05 * synth_normal(rng);
      break;
    case Placement::kPushable:
      y = on_sidewalk(0.5);
      yaw = u(-M_PI, M_PI);
      break;
    case Placement::kRack:
      y = on_sidewalk(w / 2);
      object.solid_fraction = 0.3;
      break;
  }

  // Footprint in the road frame: the axis-aligned hull of the rotated box.
  const double c = std::abs(std::cos(yaw)), s = std::abs(std::sin(yaw));
  Footprint f{0, y, vx, c * l / 2 + s * w / 2, s * l / 2 + c * w / 2, 0, scene.duration};
  // Near the ego path at a random time of the scene; the lifetime is clipped to where the
  // track stays within ~55 m (along the road) of the ego path.
  const double x_mid = u(-25.0, path_length + 25.0), t_mid = u(0, scene.duration);
  f.x0 = vx == 0 ? x_mid : x_mid - vx * t_mid;
  if (vx != 0) {
    double t1 = (-55.0 - f.x0) / vx, t2 = (path_length + 55.0 - f.x0) / vx;
    if (t1 > t2) std::swap(t1, t2);
    f.t_begin = std::max(0.0, t1);
    f.t_end = std::min(scene.duration, t2);
    // At least two keyframes (0.5 s apart) so the annotation velocity is defined.
    if (f.t_end - f.t_begin < std::min(1.0, scene.duration)) return false;
  }
  if (!free_of_conflicts(f)) return false;
  object.t_begin = f.t_begin;
  object.t_end = f.t_end;
  add(std::move(object), f.x0, y, vx, yaw, f);
  if (spec.placement == Placement::kRack && synth_uniform(rng) < 0.7)
    place_bicycles_in_rack(f.x0, y);
  return true;
}

void Builder::place_bicycles_in_rack(double x, double y) {
  // Parked across the rack, inside its footprint (the rack's own footprint already reserves the
  // space, so these are not checked against it).
  const ClassSpec& spec = kClasses[kBicycleClass];
  const int count = 1 + (synth_uniform(rng) < 0.5 ? 1 : 0);
  for (int i = 0; i < count; ++i) {
    SynthObject bike;
    bike.category = spec.category;
    bike.attribute = "cycle.without_rider";
    bike.lidarseg_index = spec.lidarseg_index;
    bike.wlh = {spec.w * u(0.9, 1.1), spec.l * u(0.9, 1.1), spec.h * u(0.9, 1.1)};
    bike.reflectivity = static_cast<float>(u(spec.reflectivity_lo, spec.reflectivity_hi));
    bike.t_end = scene.duration;
    const double bx = x + (count == 1 ? 0.0 : (i == 0 ? -0.9 : 0.9));
    const double h = scene.road_heading, c = std::cos(h), s = std::sin(h);
    bike.start = {scene.road_origin.x() + c * bx - s * y, scene.road_origin.y() + s * bx + c * y,
                  bike.wlh.z() / 2};
    bike.yaw = std::remainder(h + M_PI / 2, 2.0 * M_PI);
    scene.objects.push_back(std::move(bike));
  }
}

// Buildings set back beyond the sidewalk with gaps, trees in some gaps, poles at the curb.
void add_structures(Builder& b) {
  SynthScene& scene = b.scene;
  const double rhw = scene.ground.road_half_width, sw = scene.ground.sidewalk_width;
  const double h = scene.road_heading, c = std::cos(h), s = std::sin(h);
  const auto add_box = [&](double x, double y, double w, double l, double height, int index,
                           float reflectivity) {
    SynthStructure st;
    st.box.center = {scene.road_origin.x() + c * x - s * y, scene.road_origin.y() + s * x + c * y,
                     height / 2};
    st.box.wlh = {w, l, height};
    st.box.yaw = h;
    st.lidarseg_index = index;
    st.reflectivity = reflectivity;
    scene.structures.push_back(st);
  };
  // The LiDAR reaches 70 m: cover the road from before the start to past the end.
  const double x_begin = -90.0, x_end = b.path_length + 90.0;
  for (const double side : {-1.0, 1.0}) {
    double x = x_begin + b.u(0, 10);
    while (x < x_end) {
      const double length = b.u(10, 30), depth = b.u(8, 20), setback = b.u(1, 6);
      add_box(x + length / 2, side * (rhw + sw + setback + depth / 2), depth, length, b.u(5, 25),
              kManmade, static_cast<float>(b.u(20, 45)));
      x += length;
      const double gap = b.u(2, 12);
      if (gap > 5 && synth_uniform(b.rng) < 0.7) {
        const double size = b.u(2, std::min(4.5, gap - 1)), height = b.u(3, 8);
        add_box(x + gap / 2, side * (rhw + sw + b.u(1.5, 4) + size / 2), size, size, height,
                kVegetation, static_cast<float>(b.u(10, 25)));
      }
      x += gap;
    }
    for (double px = x_begin + b.u(0, 20); px < x_end; px += b.u(15, 30)) {
      const double y = side * (rhw + 0.4);
      add_box(px, y, 0.25, 0.25, b.u(4, 8), kManmade, 45.0f);
      b.taken.push_back({px, y, 0, 0.125, 0.125, 0, scene.duration});
    }
  }
}

}  // namespace

SynthScene make_synth_scene(int64_t index, uint64_t seed, double duration_seconds) {
  static const std::array<const char*, 4> kLocations = {
      "boston-seaport", "singapore-onenorth", "singapore-queenstown", "singapore-hollandvillage"};
  std::mt19937_64 rng(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(index)));
  SynthScene scene;
  scene.name = fmt::format("scene-{:04d}", index + 1);
  scene.location = kLocations[static_cast<size_t>(index) % kLocations.size()];
  scene.road_origin = {synth_uniform(rng, -3000, 3000), synth_uniform(rng, -3000, 3000)};
  scene.road_heading = synth_uniform(rng, -M_PI, M_PI);
  scene.ego_speed = synth_uniform(rng, 5.0, 12.0);
  scene.duration = duration_seconds;

  Builder b{rng, scene, scene.ego_speed * duration_seconds, {}};
  // The ego reserves its lane over the whole scene: x spans the rear overhang to the bumper.
  b.taken.push_back({1.5, kSynthEgoLaneY, scene.ego_speed, 2.5, 1.0, 0, duration_seconds});
  add_structures(b);

  // Every detection class at least once, then a random mix by frequency.
  const size_t target = 25 + static_cast<size_t>(synth_uniform(rng) * 16);
  for (size_t k = 0; k < 10; ++k) {
    for (int attempt = 0; attempt < 200 && !b.try_place(k); ++attempt) {
    }
  }
  double total_weight = 0;
  for (const ClassSpec& spec : kClasses) total_weight += spec.weight;
  for (int attempt = 0; attempt < 2000 && scene.objects.size() < target; ++attempt) {
    double pick = synth_uniform(rng) * total_weight;
    size_t k = 0;
    while (k + 1 < kClasses.size() && pick >= kClasses[k].weight) pick -= kClasses[k++].weight;
    b.try_place(k);
  }
  return scene;
}

}  // namespace ptqat::datasets
