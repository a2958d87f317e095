#include "tests/support/nuscenes_fixture.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datasets/nuscenes/categories.h"
#include "datasets/nuscenes/lidarseg_file.h"
#include "datasets/nuscenes/occ3d.h"
#include "datasets/nuscenes/point_cloud_file.h"

namespace ptqat::testing {

Quat yaw_quaternion(double yaw) { return {std::cos(yaw / 2), 0, 0, std::sin(yaw / 2)}; }

NuScenesFixture::NuScenesFixture(Vec3 lidar_translation, Quat lidar_rotation) {
  tables_.has_lidarseg = true;
  int index = 0;
  for (const auto name : datasets::kStandardCategoryNames) {
    tables_.category.push_back(
        {next_token(), std::string(name), "fixture " + std::string(name), index++});
  }
  for (const auto name : datasets::kAttributeNames) {
    tables_.attribute.push_back({next_token(), std::string(name), std::string(name)});
  }
  const char* levels[] = {"v0-40", "v40-60", "v60-80", "v80-100"};
  for (int v = 0; v < 4; ++v) {
    tables_.visibility.push_back({std::to_string(v + 1), levels[v], levels[v]});
  }
  tables_.sensor.push_back({next_token(), "LIDAR_TOP", "lidar"});
  calibrated_sensor_ = next_token();
  tables_.calibrated_sensor.push_back(
      {calibrated_sensor_, tables_.sensor[0].token, lidar_translation, lidar_rotation, {}});
}

Token NuScenesFixture::next_token() {
  ++counter_;
  // Distinct, non-null, and not sequential in the high half (like real random tokens).
  return Token{counter_ * 0x9E3779B97F4A7C15ULL, counter_};
}

void NuScenesFixture::add_scene(const std::string& name) {
  datasets::LogRecord log{next_token(), "n015-fixture-" + name, "n015", "2018-07-24",
                          "singapore-onenorth"};
  tables_.log.push_back(log);
  datasets::SceneRecord scene;
  scene.token = next_token();
  scene.log_token = log.token;
  scene.name = name;
  scene.description = "fixture " + name;
  tables_.scene.push_back(scene);
  if (tables_.map.empty()) {
    tables_.map.push_back({next_token(), "semantic_prior", "", {}});
    tables_.map[0].filename = "maps/" + tables_.map[0].token.hex() + ".png";
  }
  tables_.map[0].log_tokens.push_back(log.token);
  pending_sweeps_.clear();
}

Token NuScenesFixture::add_sample_data(int64_t timestamp_us, Vec3 ego_translation,
                                       Quat ego_rotation, bool keyframe) {
  datasets::EgoPoseRecord pose{next_token(), ego_translation, ego_rotation, timestamp_us};
  tables_.ego_pose.push_back(pose);
  datasets::SampleDataRecord record;
  record.token = next_token();
  record.ego_pose_token = pose.token;
  record.calibrated_sensor_token = calibrated_sensor_;
  record.timestamp = timestamp_us;
  record.is_key_frame = keyframe;
  record.fileformat = "pcd";
  record.filename = std::string(keyframe ? "samples" : "sweeps") + "/LIDAR_TOP/" +
                    tables_.log.back().logfile + "__LIDAR_TOP__" + std::to_string(timestamp_us) +
                    ".pcd.bin";
  // Link to the previous LIDAR_TOP sample_data of the same scene.
  const bool scene_has_data =
      !tables_.scene.back().first_sample_token.is_null() || !pending_sweeps_.empty();
  if (scene_has_data && !tables_.sample_data.empty()) {
    auto& previous = tables_.sample_data.back();
    previous.next_token = record.token;
    record.prev_token = previous.token;
  }
  tables_.sample_data.push_back(record);
  return record.token;
}

Token NuScenesFixture::add_sample(int64_t timestamp_us, Vec3 ego_translation, Quat ego_rotation) {
  auto& scene = tables_.scene.back();
  datasets::SampleRecord sample;
  sample.token = next_token();
  sample.timestamp = timestamp_us;
  sample.scene_token = scene.token;
  if (!scene.last_sample_token.is_null()) {
    for (auto& previous : tables_.sample) {
      if (previous.token == scene.last_sample_token) {
        previous.next_token = sample.token;
        sample.prev_token = previous.token;
      }
    }
  }
  const Token data = add_sample_data(timestamp_us, ego_translation, ego_rotation, true);
  tables_.sample_data.back().sample_token = sample.token;
  for (size_t sweep : pending_sweeps_) tables_.sample_data[sweep].sample_token = sample.token;
  pending_sweeps_.clear();
  if (scene.first_sample_token.is_null()) scene.first_sample_token = sample.token;
  scene.last_sample_token = sample.token;
  ++scene.nbr_samples;
  tables_.sample.push_back(sample);
  (void)data;
  return sample.token;
}

Token NuScenesFixture::add_sweep(int64_t timestamp_us, Vec3 ego_translation, Quat ego_rotation) {
  const Token token = add_sample_data(timestamp_us, ego_translation, ego_rotation, false);
  // Until a later keyframe claims it, a sweep belongs to the scene's last sample.
  tables_.sample_data.back().sample_token = tables_.scene.back().last_sample_token;
  pending_sweeps_.push_back(tables_.sample_data.size() - 1);
  return token;
}

Token NuScenesFixture::add_annotation(const Token& sample, const std::string& instance,
                                      const std::string& category, Vec3 translation, Vec3 size,
                                      Quat rotation, const std::string& attribute,
                                      int64_t num_lidar_pts) {
  datasets::SampleAnnotationRecord ann;
  ann.token = next_token();
  ann.sample_token = sample;
  ann.translation = translation;
  ann.size = size;
  ann.rotation = rotation;
  ann.visibility_token = "4";
  ann.num_lidar_pts = num_lidar_pts;
  for (const auto& a : tables_.attribute) {
    if (a.name == attribute) ann.attribute_tokens.push_back(a.token);
  }
  const auto previous = last_annotation_of_instance_.find(instance);
  if (previous == last_annotation_of_instance_.end()) {
    datasets::InstanceRecord record;
    record.token = next_token();
    record.category_token = this->category(category);
    record.first_annotation_token = ann.token;
    tables_.instance.push_back(record);
    ann.instance_token = record.token;
  } else {
    auto& before = tables_.sample_annotation[previous->second];
    before.next_token = ann.token;
    ann.prev_token = before.token;
    ann.instance_token = before.instance_token;
  }
  for (auto& record : tables_.instance) {
    if (record.token == ann.instance_token) {
      record.last_annotation_token = ann.token;
      ++record.nbr_annotations;
    }
  }
  last_annotation_of_instance_[instance] = tables_.sample_annotation.size();
  tables_.sample_annotation.push_back(ann);
  return ann.token;
}

void NuScenesFixture::set_points(const Token& sample_data, torch::Tensor points) {
  points_[sample_data.hex()] = std::move(points);
}

void NuScenesFixture::set_lidarseg(const Token& sample_data, torch::Tensor labels) {
  lidarseg_[sample_data.hex()] = std::move(labels);
}

Token NuScenesFixture::keyframe_of(const Token& sample) const {
  for (const auto& record : tables_.sample_data) {
    if (record.sample_token == sample && record.is_key_frame) return record.token;
  }
  return Token{};
}

Token NuScenesFixture::category(const std::string& name) const {
  for (const auto& record : tables_.category) {
    if (record.name == name) return record.token;
  }
  throw std::invalid_argument("fixture: unknown category " + name);
}

void NuScenesFixture::write(const std::string& dataroot, const std::string& version) {
  namespace fs = std::filesystem;
  tables_.lidarseg.clear();
  tables_.has_lidarseg = write_lidarseg;
  torch::manual_seed(static_cast<uint64_t>(tables_.sample_data.size()));
  for (const auto& record : tables_.sample_data) {
    auto points = points_.count(record.token.hex()) ? points_[record.token.hex()]
                                                    : torch::rand({default_points, 5}) * 40 - 20;
    datasets::write_lidar_points(dataroot + "/" + record.filename, points);
    if (record.is_key_frame && write_lidarseg) {
      const std::string filename =
          "lidarseg/" + version + "/" + record.token.hex() + "_lidarseg.bin";
      auto labels = lidarseg_.count(record.token.hex())
                        ? lidarseg_[record.token.hex()]
                        : torch::randint(0, 32, {points.size(0)}, torch::kUInt8);
      datasets::write_lidarseg_labels(dataroot + "/" + filename, labels);
      tables_.lidarseg.push_back({record.token, record.token, filename});
    }
  }
  if (write_occupancy) {
    for (const auto& sample : tables_.sample) {
      std::string scene_name;
      for (const auto& scene : tables_.scene) {
        if (scene.token == sample.scene_token) scene_name = scene.name;
      }
      datasets::Occ3dLabels labels;
      labels.semantics = torch::full({200, 200, 16}, 17, torch::kUInt8);
      labels.semantics.index_put_({100, 100, 0}, 11);  // the road under the ego
      labels.mask_lidar = torch::ones({200, 200, 16}, torch::kBool);
      labels.mask_camera = torch::ones({200, 200, 16}, torch::kBool);
      datasets::write_occ3d_labels(
          dataroot + "/gts/" + scene_name + "/" + sample.token.hex() + "/labels.npz", labels,
          compress_occupancy);
    }
  }
  datasets::write_tables(tables_, dataroot + "/" + version);
  for (const auto& map : tables_.map) {
    fs::create_directories(fs::path(dataroot) / "maps");
    std::ofstream(dataroot + "/" + map.filename, std::ios::binary) << "";
  }
  if (!custom_splits.empty()) {
    std::ofstream(dataroot + "/" + version + "/splits.json")
        << nlohmann::json(custom_splits).dump();
  }
}

NuScenesFixture standard_fixture(const std::vector<std::string>& names, int samples, int sweeps) {
  NuScenesFixture fixture;
  int64_t time = 1'533'151'603'547'590;
  for (const auto& name : names) {
    fixture.add_scene(name);
    const int64_t start = time;
    auto pose = [&](int64_t t) {
      const double seconds = 1e-6 * static_cast<double>(t - start);
      return Vec3{100.0 + 5.0 * seconds, 200.0, 0.0};
    };
    for (int s = 0; s < samples; ++s) {
      for (int w = sweeps; w >= 1; --w) {
        const int64_t t = time - 50'000 * w;
        if (s > 0) fixture.add_sweep(t, pose(t), yaw_quaternion(0));
      }
      const Token sample = fixture.add_sample(time, pose(time), yaw_quaternion(0));
      const double seconds = 1e-6 * static_cast<double>(time - start);
      fixture.add_annotation(sample, name + "-car", "vehicle.car", {110.0 + 10.0 * seconds, 203, 1},
                             {1.9, 4.6, 1.7}, yaw_quaternion(0), "vehicle.moving");
      fixture.add_annotation(sample, name + "-ped", "human.pedestrian.adult",
                             {105, 195.0 + 1.0 * seconds, 0.9}, {0.6, 0.7, 1.8},
                             yaw_quaternion(M_PI / 2), "pedestrian.moving");
      time += 500'000;
    }
    time += 10'000'000;
  }
  return fixture;
}

}  // namespace ptqat::testing
