#include "datasets/nuscenes/categories.h"

#include <utility>

#include "core/error.h"

namespace ptqat::datasets {

namespace {

template <size_t N>
int index_in(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

int detection_class_of(std::string_view name) {
  // eval/detection/utils.py: category_to_detection_name.
  static constexpr std::pair<std::string_view, std::string_view> kMapping[] = {
      {"movable_object.barrier", "barrier"},
      {"vehicle.bicycle", "bicycle"},
      {"vehicle.bus.bendy", "bus"},
      {"vehicle.bus.rigid", "bus"},
      {"vehicle.car", "car"},
      {"vehicle.construction", "construction_vehicle"},
      {"vehicle.motorcycle", "motorcycle"},
      {"human.pedestrian.adult", "pedestrian"},
      {"human.pedestrian.child", "pedestrian"},
      {"human.pedestrian.construction_worker", "pedestrian"},
      {"human.pedestrian.police_officer", "pedestrian"},
      {"movable_object.trafficcone", "traffic_cone"},
      {"vehicle.trailer", "trailer"},
      {"vehicle.truck", "truck"},
  };
  for (const auto& [general, detection] : kMapping) {
    if (general == name) return index_in(kDetectionNames, detection);
  }
  return -1;
}

int lidarseg_class_of(std::string_view name) {
  // eval/lidarseg/utils.py: LidarsegClassMapper (the 32 -> 16 challenge mapping).
  static constexpr std::pair<std::string_view, int> kMapping[] = {
      {"noise", 0},
      {"animal", 0},
      {"human.pedestrian.adult", 7},
      {"human.pedestrian.child", 7},
      {"human.pedestrian.construction_worker", 7},
      {"human.pedestrian.personal_mobility", 0},
      {"human.pedestrian.police_officer", 7},
      {"human.pedestrian.stroller", 0},
      {"human.pedestrian.wheelchair", 0},
      {"movable_object.barrier", 1},
      {"movable_object.debris", 0},
      {"movable_object.pushable_pullable", 0},
      {"movable_object.trafficcone", 8},
      {"static_object.bicycle_rack", 0},
      {"vehicle.bicycle", 2},
      {"vehicle.bus.bendy", 3},
      {"vehicle.bus.rigid", 3},
      {"vehicle.car", 4},
      {"vehicle.construction", 5},
      {"vehicle.emergency.ambulance", 0},
      {"vehicle.emergency.police", 0},
      {"vehicle.motorcycle", 6},
      {"vehicle.trailer", 9},
      {"vehicle.truck", 10},
      {"flat.driveable_surface", 11},
      {"flat.other", 12},
      {"flat.sidewalk", 13},
      {"flat.terrain", 14},
      {"static.manmade", 15},
      {"static.other", 0},
      {"static.vegetation", 16},
      {"vehicle.ego", 0},
  };
  for (const auto& [general, coarse] : kMapping) {
    if (general == name) return coarse;
  }
  return -1;
}

int attribute_index(std::string_view name) { return index_in(kAttributeNames, name); }

double detection_class_range(int detection_class) {
  PTQAT_ASSERT(detection_class >= 0 && detection_class < kNumDetectionClasses,
               "detection class {} out of range", detection_class);
  // detection_cvpr_2019.json class_range, in kDetectionNames order.
  static constexpr double kRange[kNumDetectionClasses] = {50, 50, 50, 50, 50, 40, 40, 40, 30, 30};
  return kRange[detection_class];
}

}  // namespace ptqat::datasets
