#pragma once
// The official nuScenes class tables (docs/nuscenes.md section 5): the 23 general annotation classes
// mapped to the 10 detection classes, the 32 lidarseg classes mapped to the 16 challenge
// classes, and the 8 attributes. Lookups go by category *name*; the lidarseg label values are
// the `index` field of category.json, never hard-coded.

#include <array>
#include <cstdint>
#include <string_view>

namespace ptqat::datasets {

inline constexpr int kNumDetectionClasses = 10;
/// DETECTION_NAMES in the devkit's config order (also the order of per-class results).
inline constexpr std::array<std::string_view, kNumDetectionClasses> kDetectionNames = {
    "car",        "truck",      "bus",     "trailer",      "construction_vehicle",
    "pedestrian", "motorcycle", "bicycle", "traffic_cone", "barrier"};

inline constexpr int kNumAttributes = 8;
inline constexpr std::array<std::string_view, kNumAttributes> kAttributeNames = {
    "vehicle.moving",      "vehicle.stopped",     "vehicle.parked",
    "cycle.with_rider",    "cycle.without_rider", "pedestrian.sitting_lying_down",
    "pedestrian.standing", "pedestrian.moving"};

/// The 16 lidarseg challenge classes with 0 = ignore (Occ3D calls 0 "others" and adds 17 free).
inline constexpr int kNumLidarsegClasses = 17;
inline constexpr std::array<std::string_view, kNumLidarsegClasses> kLidarsegClassNames = {
    "ignore",     "barrier",    "bicycle",      "bus",     "car",       "construction_vehicle",
    "motorcycle", "pedestrian", "traffic_cone", "trailer", "truck",     "driveable_surface",
    "other_flat", "sidewalk",   "terrain",      "manmade", "vegetation"};

/// The 32 lidarseg categories in the order of the standard category.json 'index' (docs/nuscenes.md
/// 5a). Only writers of datasets use this order; readers take 'index' from category.json.
inline constexpr std::array<std::string_view, 32> kStandardCategoryNames = {
    "noise",
    "animal",
    "human.pedestrian.adult",
    "human.pedestrian.child",
    "human.pedestrian.construction_worker",
    "human.pedestrian.personal_mobility",
    "human.pedestrian.police_officer",
    "human.pedestrian.stroller",
    "human.pedestrian.wheelchair",
    "movable_object.barrier",
    "movable_object.debris",
    "movable_object.pushable_pullable",
    "movable_object.trafficcone",
    "static_object.bicycle_rack",
    "vehicle.bicycle",
    "vehicle.bus.bendy",
    "vehicle.bus.rigid",
    "vehicle.car",
    "vehicle.construction",
    "vehicle.emergency.ambulance",
    "vehicle.emergency.police",
    "vehicle.motorcycle",
    "vehicle.trailer",
    "vehicle.truck",
    "flat.driveable_surface",
    "flat.other",
    "flat.sidewalk",
    "flat.terrain",
    "static.manmade",
    "static.other",
    "static.vegetation",
    "vehicle.ego"};

/// The devkit's category_to_detection_name: detection class index, or -1 when the general
/// class is not evaluated (animal, stroller, debris, bicycle_rack, emergency vehicles, ...).
int detection_class_of(std::string_view category_name);

/// The devkit's LidarsegClassMapper: challenge class 0..16 of a general category name, or -1
/// when the name is none of the 32 lidarseg categories.
int lidarseg_class_of(std::string_view category_name);

/// Attribute index in kAttributeNames, or -1.
int attribute_index(std::string_view attribute_name);

/// Detection range of a class in metres (detection_cvpr_2019 class_range).
double detection_class_range(int detection_class);

}  // namespace ptqat::datasets
