#include "datasets/nuscenes/categories.h"

#include <gtest/gtest.h>

namespace ptqat::datasets {

TEST(Categories, TheTwentyThreeGeneralClassesMapToTheTenDetectionClasses) {
  // docs/nuscenes.md 5b, written out: general class -> detection name ("" = not evaluated).
  const std::pair<const char*, const char*> table[] = {
      {"animal", ""},
      {"human.pedestrian.adult", "pedestrian"},
      {"human.pedestrian.child", "pedestrian"},
      {"human.pedestrian.construction_worker", "pedestrian"},
      {"human.pedestrian.personal_mobility", ""},
      {"human.pedestrian.police_officer", "pedestrian"},
      {"human.pedestrian.stroller", ""},
      {"human.pedestrian.wheelchair", ""},
      {"movable_object.barrier", "barrier"},
      {"movable_object.debris", ""},
      {"movable_object.pushable_pullable", ""},
      {"movable_object.trafficcone", "traffic_cone"},
      {"static_object.bicycle_rack", ""},
      {"vehicle.bicycle", "bicycle"},
      {"vehicle.bus.bendy", "bus"},
      {"vehicle.bus.rigid", "bus"},
      {"vehicle.car", "car"},
      {"vehicle.construction", "construction_vehicle"},
      {"vehicle.emergency.ambulance", ""},
      {"vehicle.emergency.police", ""},
      {"vehicle.motorcycle", "motorcycle"},
      {"vehicle.trailer", "trailer"},
      {"vehicle.truck", "truck"},
  };
  for (const auto& [general, detection] : table) {
    const int index = detection_class_of(general);
    if (std::string_view(detection).empty()) {
      EXPECT_EQ(index, -1) << general;
    } else {
      ASSERT_GE(index, 0) << general;
      EXPECT_EQ(kDetectionNames[index], detection) << general;
    }
  }
  EXPECT_EQ(detection_class_of("flat.driveable_surface"), -1);
}

TEST(Categories, DetectionNamesAndRangesFollowTheCvpr2019Config) {
  EXPECT_EQ(kDetectionNames[0], "car");
  EXPECT_EQ(kDetectionNames[9], "barrier");
  EXPECT_EQ(detection_class_range(0), 50.0);
  EXPECT_EQ(detection_class_range(5), 40.0);  // pedestrian
  EXPECT_EQ(detection_class_range(8), 30.0);  // traffic_cone
}

TEST(Categories, LidarsegNamesMapToChallengeClasses) {
  EXPECT_EQ(lidarseg_class_of("noise"), 0);
  EXPECT_EQ(lidarseg_class_of("vehicle.ego"), 0);
  EXPECT_EQ(lidarseg_class_of("static.other"), 0);
  EXPECT_EQ(lidarseg_class_of("vehicle.bus.bendy"), 3);
  EXPECT_EQ(lidarseg_class_of("static.vegetation"), 16);
  EXPECT_EQ(kLidarsegClassNames[lidarseg_class_of("flat.driveable_surface")], "driveable_surface");
  EXPECT_EQ(lidarseg_class_of("not.a.category"), -1);
}

TEST(Categories, AttributeIndices) {
  EXPECT_EQ(attribute_index("vehicle.moving"), 0);
  EXPECT_EQ(attribute_index("pedestrian.moving"), 7);
  EXPECT_EQ(attribute_index(""), -1);
}

}  // namespace ptqat::datasets
