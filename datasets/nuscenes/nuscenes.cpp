#include "datasets/nuscenes/nuscenes.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/resources.h"
#include "datasets/nuscenes/categories.h"

namespace ptqat::datasets {

const char* official_splits_json();  // generated from datasets/data/nuscenes-official-splits.json

namespace {

using TokenRows = std::unordered_map<Token, Row, TokenHash>;

template <class Record>
TokenRows index_by_token(const std::vector<Record>& records, const std::string& file) {
  TokenRows rows;
  rows.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const auto [it, inserted] = rows.emplace(records[i].token, static_cast<Row>(i));
    PTQAT_CHECK(inserted, DataError, "{}: record {}: token {} appears twice", file, i,
                records[i].token.hex());
  }
  return rows;
}

/// Resolves a foreign key; null tokens give kNoRow when `nullable`, else a DataError.
struct Resolver {
  const std::string& version_dir;

  Row operator()(const TokenRows& rows, const Token& key, const char* table, const Token& owner,
                 const char* field, const char* target, bool nullable = false) const {
    if (key.is_null()) {
      PTQAT_CHECK(nullable, DataError,
                  "{}/{}.json: record {}: {} is empty (expected a token of {})", version_dir, table,
                  owner.hex(), field, target);
      return kNoRow;
    }
    const auto it = rows.find(key);
    PTQAT_CHECK(it != rows.end(), DataError, "{}/{}.json: record {}: {} {} not found in {}",
                version_dir, table, owner.hex(), field, key.hex(), target);
    return it->second;
  }
};

}  // namespace

const std::unordered_map<std::string, std::vector<std::string>>& official_splits() {
  static const auto splits = [] {
    const nlohmann::json json = nlohmann::json::parse(official_splits_json());
    return json.get<std::unordered_map<std::string, std::vector<std::string>>>();
  }();
  return splits;
}

NuScenes::NuScenes(std::string dataroot, std::string version)
    : dataroot_(std::move(dataroot)), version_(std::move(version)) {
  const core::Stopwatch stopwatch;
  PTQAT_CHECK(std::filesystem::is_directory(dataroot_), DataError,
              "{}: no such dataroot (expected a folder holding {}/ with the nuScenes tables)",
              dataroot_, version_);
  version_dir_ = dataroot_ + "/" + version_;
  tables_ = read_tables(version_dir_);
  resolve();
  if (tables_.has_lidarseg) build_lidarseg_lut();
  index_seconds_ = stopwatch.seconds();
}

void NuScenes::resolve() {
  Tables& t = tables_;
  const Resolver resolve{version_dir_};
  const TokenRows category = index_by_token(t.category, version_dir_ + "/category.json");
  const TokenRows attribute = index_by_token(t.attribute, version_dir_ + "/attribute.json");
  const TokenRows instance = index_by_token(t.instance, version_dir_ + "/instance.json");
  const TokenRows sensor = index_by_token(t.sensor, version_dir_ + "/sensor.json");
  const TokenRows calibrated =
      index_by_token(t.calibrated_sensor, version_dir_ + "/calibrated_sensor.json");
  const TokenRows ego_pose = index_by_token(t.ego_pose, version_dir_ + "/ego_pose.json");
  const TokenRows log = index_by_token(t.log, version_dir_ + "/log.json");
  sample_rows_ = index_by_token(t.sample, version_dir_ + "/sample.json");
  const TokenRows& sample = sample_rows_;
  const TokenRows sample_data = index_by_token(t.sample_data, version_dir_ + "/sample_data.json");
  const TokenRows annotation =
      index_by_token(t.sample_annotation, version_dir_ + "/sample_annotation.json");
  const TokenRows scene = index_by_token(t.scene, version_dir_ + "/scene.json");

  for (auto& r : t.instance) {
    r.category =
        resolve(category, r.category_token, "instance", r.token, "category_token", "category.json");
  }
  for (auto& r : t.calibrated_sensor) {
    r.sensor = resolve(sensor, r.sensor_token, "calibrated_sensor", r.token, "sensor_token",
                       "sensor.json");
  }
  for (auto& r : t.scene) {
    r.log = resolve(log, r.log_token, "scene", r.token, "log_token", "log.json");
    r.first_sample = resolve(sample, r.first_sample_token, "scene", r.token, "first_sample_token",
                             "sample.json");
    r.last_sample =
        resolve(sample, r.last_sample_token, "scene", r.token, "last_sample_token", "sample.json");
  }
  for (auto& r : t.sample) {
    r.scene = resolve(scene, r.scene_token, "sample", r.token, "scene_token", "scene.json");
    r.prev = resolve(sample, r.prev_token, "sample", r.token, "prev", "sample.json", true);
    r.next = resolve(sample, r.next_token, "sample", r.token, "next", "sample.json", true);
  }
  for (size_t i = 0; i < t.sample_data.size(); ++i) {
    auto& r = t.sample_data[i];
    r.sample =
        resolve(sample, r.sample_token, "sample_data", r.token, "sample_token", "sample.json");
    r.ego_pose = resolve(ego_pose, r.ego_pose_token, "sample_data", r.token, "ego_pose_token",
                         "ego_pose.json");
    r.calibrated_sensor = resolve(calibrated, r.calibrated_sensor_token, "sample_data", r.token,
                                  "calibrated_sensor_token", "calibrated_sensor.json");
    r.prev = resolve(sample_data, r.prev_token, "sample_data", r.token, "prev", "sample_data.json",
                     true);
    r.next = resolve(sample_data, r.next_token, "sample_data", r.token, "next", "sample_data.json",
                     true);
    // sample.data[channel] holds the keyframe sample_data of each channel.
    const auto& channel = t.sensor[t.calibrated_sensor[r.calibrated_sensor].sensor].channel;
    if (r.is_key_frame && channel == "LIDAR_TOP")
      t.sample[r.sample].lidar_top = static_cast<Row>(i);
  }
  for (size_t i = 0; i < t.sample_annotation.size(); ++i) {
    auto& r = t.sample_annotation[i];
    r.sample = resolve(sample, r.sample_token, "sample_annotation", r.token, "sample_token",
                       "sample.json");
    r.instance = resolve(instance, r.instance_token, "sample_annotation", r.token, "instance_token",
                         "instance.json");
    r.prev = resolve(annotation, r.prev_token, "sample_annotation", r.token, "prev",
                     "sample_annotation.json", true);
    r.next = resolve(annotation, r.next_token, "sample_annotation", r.token, "next",
                     "sample_annotation.json", true);
    r.attributes.clear();
    for (const Token& a : r.attribute_tokens) {
      r.attributes.push_back(resolve(attribute, a, "sample_annotation", r.token, "attribute_tokens",
                                     "attribute.json"));
    }
    // sample.anns keeps sample_annotation.json order: it breaks ties in metric matching.
    t.sample[r.sample].annotations.push_back(static_cast<Row>(i));
  }
  lidarseg_by_sample_data_.assign(t.sample_data.size(), kNoRow);
  for (size_t i = 0; i < t.lidarseg.size(); ++i) {
    auto& r = t.lidarseg[i];
    r.sample_data = resolve(sample_data, r.sample_data_token, "lidarseg", r.token,
                            "sample_data_token", "sample_data.json");
    lidarseg_by_sample_data_[r.sample_data] = static_cast<Row>(i);
  }
}

void NuScenes::build_lidarseg_lut() {
  lidarseg_lut_.fill(0);
  for (const auto& category : tables_.category) {
    PTQAT_CHECK(category.index >= 0 && category.index < 256, DataError,
                "{}/category.json: category '{}': expected a lidarseg 'index' in [0, 255], got {}",
                version_dir_, category.name, category.index);
    const int coarse = lidarseg_class_of(category.name);
    PTQAT_CHECK(coarse >= 0, DataError,
                "{}/category.json: category '{}' (index {}) is not one of the 32 lidarseg "
                "categories",
                version_dir_, category.name, category.index);
    lidarseg_lut_[category.index] = static_cast<uint8_t>(coarse);
  }
}

std::string NuScenes::path_of(const std::string& relative) const {
  return dataroot_ + "/" + relative;
}

std::vector<std::string> NuScenes::split_scene_names(const std::string& split) const {
  std::set<std::string> present;
  for (const auto& scene : tables_.scene) present.insert(scene.name);

  const auto& official = official_splits();
  if (const auto it = official.find(split); it != official.end()) {
    std::vector<std::string> names;
    for (const auto& name : it->second) {
      if (present.count(name)) names.push_back(name);
    }
    PTQAT_CHECK(!names.empty(), DataError,
                "{}: official split '{}' selects none of this version's {} scenes", version_dir_,
                split, present.size());
    return names;
  }

  const std::string file = version_dir_ + "/splits.json";
  PTQAT_CHECK(std::filesystem::is_regular_file(file), DataError,
              "{}: split '{}' is not an official split and the version has no splits.json "
              "(expected {})",
              version_dir_, split, file);
  nlohmann::json custom;
  try {
    custom = nlohmann::json::parse(std::ifstream(file));
  } catch (const nlohmann::json::exception& error) {
    PTQAT_FAIL(DataError, "{}: malformed JSON: {}", file, error.what());
  }
  PTQAT_CHECK(custom.is_object() && custom.contains(split), DataError,
              "{}: no split '{}' (expected an object mapping split names to scene-name lists)",
              file, split);
  const auto& listed = custom[split];
  PTQAT_CHECK(listed.is_array(), DataError, "{}: split '{}': expected a list of scene names", file,
              split);
  std::vector<std::string> names;
  for (const auto& entry : listed) {
    PTQAT_CHECK(entry.is_string(), DataError, "{}: split '{}': expected scene names, got {}", file,
                split, entry.dump());
    PTQAT_CHECK(present.count(entry.get<std::string>()), DataError,
                "{}: split '{}': scene '{}' is not in scene.json", file, split,
                entry.get<std::string>());
    names.push_back(entry.get<std::string>());
  }
  // Found now, not after an epoch of training on the other split.
  PTQAT_CHECK(!names.empty(), DataError, "{}: split '{}' lists no scenes (expected at least one)",
              file, split);
  return names;
}

std::vector<Row> NuScenes::split_samples(const std::string& split) const {
  std::unordered_map<std::string, Row> scene_by_name;
  for (size_t i = 0; i < tables_.scene.size(); ++i) {
    scene_by_name[tables_.scene[i].name] = static_cast<Row>(i);
  }
  std::vector<Row> rows;
  for (const auto& name : split_scene_names(split)) {
    const SceneRecord& scene = tables_.scene[scene_by_name.at(name)];
    Row row = scene.first_sample;
    for (size_t steps = 0; row != kNoRow; ++steps, row = tables_.sample[row].next) {
      PTQAT_CHECK(steps <= tables_.sample.size(), DataError,
                  "{}/sample.json: the next-links of scene '{}' form a cycle", version_dir_, name);
      PTQAT_CHECK(tables_.sample[row].lidar_top != kNoRow, DataError,
                  "{}/sample_data.json: sample {} has no LIDAR_TOP keyframe", version_dir_,
                  tables_.sample[row].token.hex());
      rows.push_back(row);
    }
  }
  return rows;
}

RigidTransform NuScenes::sensor_to_ego(Row sample_data) const {
  const auto& c = tables_.calibrated_sensor[tables_.sample_data[sample_data].calibrated_sensor];
  return RigidTransform::from(c.rotation, c.translation);
}

RigidTransform NuScenes::ego_to_global(Row sample_data) const {
  const auto& e = tables_.ego_pose[tables_.sample_data[sample_data].ego_pose];
  return RigidTransform::from(e.rotation, e.translation);
}

Eigen::Vector3d NuScenes::box_velocity(Row annotation) const {
  // nuscenes.py: NuScenes.box_velocity(max_time_diff=1.5).
  const auto& annotations = tables_.sample_annotation;
  const auto& current = annotations[annotation];
  const bool has_prev = current.prev != kNoRow, has_next = current.next != kNoRow;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!has_prev && !has_next) return Eigen::Vector3d::Constant(nan);
  const auto& first = has_prev ? annotations[current.prev] : current;
  const auto& last = has_next ? annotations[current.next] : current;
  // Same operation order as the devkit: each timestamp scaled to seconds, then subtracted.
  const double time_diff = 1e-6 * static_cast<double>(tables_.sample[last.sample].timestamp) -
                           1e-6 * static_cast<double>(tables_.sample[first.sample].timestamp);
  const double max_time_diff = has_prev && has_next ? 3.0 : 1.5;
  if (time_diff > max_time_diff) return Eigen::Vector3d::Constant(nan);
  Eigen::Vector3d diff;
  for (int k = 0; k < 3; ++k) diff[k] = last.translation[k] - first.translation[k];
  return diff / time_diff;
}

SampleBoxes NuScenes::lidar_boxes(Row sample) const {
  const Row lidar = tables_.sample[sample].lidar_top;
  // Global -> ego -> LiDAR as in get_sample_data / boxes_to_sensor: translate, then rotate by
  // the inverse rotation; velocities are rotated only.
  return boxes_in_frame(sample, (ego_to_global(lidar) * sensor_to_ego(lidar)).inverse());
}

SampleBoxes NuScenes::ego_boxes(Row sample) const {
  return boxes_in_frame(sample, ego_to_global(tables_.sample[sample].lidar_top).inverse());
}

SampleBoxes NuScenes::boxes_in_frame(Row sample, const RigidTransform& global_to_frame) const {
  const SampleRecord& record = tables_.sample[sample];

  std::vector<float> boxes;
  std::vector<int64_t> labels, attributes, num_points;
  for (const Row row : record.annotations) {
    const auto& ann = tables_.sample_annotation[row];
    const int label = detection_class_of(category_name(row));
    if (label < 0) continue;
    PTQAT_CHECK(ann.attributes.size() <= 1, DataError,
                "{}/sample_annotation.json: record {}: expected at most one attribute, got {}",
                version_dir_, ann.token.hex(), ann.attributes.size());
    const Eigen::Vector3d centre = global_to_frame.apply(
        Eigen::Vector3d(ann.translation[0], ann.translation[1], ann.translation[2]));
    const double yaw = quaternion_yaw(global_to_frame.rotation * to_eigen(ann.rotation));
    const Eigen::Vector3d velocity = global_to_frame.rotation * box_velocity(row);
    const double values[9] = {centre.x(),  centre.y(), centre.z(),   ann.size[0], ann.size[1],
                              ann.size[2], yaw,        velocity.x(), velocity.y()};
    boxes.insert(boxes.end(), std::begin(values), std::end(values));
    labels.push_back(label);
    attributes.push_back(
        ann.attributes.empty() ? -1 : attribute_index(tables_.attribute[ann.attributes[0]].name));
    num_points.push_back(ann.num_lidar_pts);
  }
  SampleBoxes out;
  const auto count = static_cast<int64_t>(labels.size());
  out.boxes = torch::from_blob(boxes.data(), {count, 9}, torch::kFloat32).clone();
  out.labels = torch::tensor(labels, torch::kInt64).reshape({count});
  out.attributes = torch::tensor(attributes, torch::kInt64).reshape({count});
  out.num_lidar_pts = torch::tensor(num_points, torch::kInt64).reshape({count});
  return out;
}

const std::string& NuScenes::category_name(Row annotation) const {
  const auto& instance = tables_.instance[tables_.sample_annotation[annotation].instance];
  return tables_.category[instance.category].name;
}

torch::Tensor NuScenes::to_challenge_labels(const torch::Tensor& fine) const {
  const auto lut =
      torch::from_blob(const_cast<uint8_t*>(lidarseg_lut_.data()), {256}, torch::kUInt8);
  return lut.index_select(0, fine.to(torch::kInt64)).to(torch::kInt64);
}

Row NuScenes::lidarseg_of(Row sample_data) const { return lidarseg_by_sample_data_[sample_data]; }

Row NuScenes::sample_row(const Token& token) const {
  const auto it = sample_rows_.find(token);
  return it == sample_rows_.end() ? kNoRow : it->second;
}

}  // namespace ptqat::datasets
