// Writing the nuScenes JSON tables (used by the synthetic generator and by test fixtures).
// nlohmann's ordered_json keeps the devkit's field order, and its float output is the shortest
// round-trip form, so equal tables give byte-identical files.

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "datasets/nuscenes_tables.h"

namespace ptqat::datasets {

namespace {

using Json = nlohmann::ordered_json;

Json tokens(const std::vector<Token>& list) {
  Json array = Json::array();
  for (const Token& token : list) array.push_back(token.hex());
  return array;
}

Json intrinsic(const std::vector<double>& values) {
  Json rows = Json::array();
  for (size_t r = 0; r + 2 < values.size(); r += 3) {
    rows.push_back(Json::array({values[r], values[r + 1], values[r + 2]}));
  }
  return rows;
}

template <class Record, class ToJson>
void write_table(const std::string& version_dir, const std::string& table,
                 const std::vector<Record>& records, ToJson to_json) {
  const std::string file = version_dir + "/" + table + ".json";
  std::ofstream out(file, std::ios::binary);
  PTQAT_CHECK(out.good(), IoError, "{}: cannot open for writing", file);
  out << "[\n";
  for (size_t i = 0; i < records.size(); ++i) {
    out << to_json(records[i]).dump() << (i + 1 < records.size() ? ",\n" : "\n");
  }
  out << "]\n";
  out.flush();
  PTQAT_CHECK(out.good(), IoError, "{}: write failed", file);
}

}  // namespace

void write_tables(const Tables& t, const std::string& version_dir) {
  std::filesystem::create_directories(version_dir);
  write_table(version_dir, "category", t.category, [&](const CategoryRecord& r) {
    Json j{{"token", r.token.hex()}, {"name", r.name}, {"description", r.description}};
    if (t.has_lidarseg) j["index"] = r.index;
    return j;
  });
  write_table(version_dir, "attribute", t.attribute, [](const AttributeRecord& r) {
    return Json{{"token", r.token.hex()}, {"name", r.name}, {"description", r.description}};
  });
  write_table(version_dir, "visibility", t.visibility, [](const VisibilityRecord& r) {
    return Json{{"token", r.token}, {"level", r.level}, {"description", r.description}};
  });
  write_table(version_dir, "instance", t.instance, [](const InstanceRecord& r) {
    return Json{{"token", r.token.hex()},
                {"category_token", r.category_token.hex()},
                {"nbr_annotations", r.nbr_annotations},
                {"first_annotation_token", r.first_annotation_token.hex()},
                {"last_annotation_token", r.last_annotation_token.hex()}};
  });
  write_table(version_dir, "sensor", t.sensor, [](const SensorRecord& r) {
    return Json{{"token", r.token.hex()}, {"channel", r.channel}, {"modality", r.modality}};
  });
  write_table(version_dir, "calibrated_sensor", t.calibrated_sensor,
              [](const CalibratedSensorRecord& r) {
                return Json{{"token", r.token.hex()},
                            {"sensor_token", r.sensor_token.hex()},
                            {"translation", r.translation},
                            {"rotation", r.rotation},
                            {"camera_intrinsic", intrinsic(r.camera_intrinsic)}};
              });
  write_table(version_dir, "ego_pose", t.ego_pose, [](const EgoPoseRecord& r) {
    return Json{{"token", r.token.hex()},
                {"timestamp", r.timestamp},
                {"rotation", r.rotation},
                {"translation", r.translation}};
  });
  write_table(version_dir, "log", t.log, [](const LogRecord& r) {
    return Json{{"token", r.token.hex()},
                {"logfile", r.logfile},
                {"vehicle", r.vehicle},
                {"date_captured", r.date_captured},
                {"location", r.location}};
  });
  write_table(version_dir, "scene", t.scene, [](const SceneRecord& r) {
    return Json{{"token", r.token.hex()},
                {"log_token", r.log_token.hex()},
                {"nbr_samples", r.nbr_samples},
                {"first_sample_token", r.first_sample_token.hex()},
                {"last_sample_token", r.last_sample_token.hex()},
                {"name", r.name},
                {"description", r.description}};
  });
  write_table(version_dir, "sample", t.sample, [](const SampleRecord& r) {
    return Json{{"token", r.token.hex()},
                {"timestamp", r.timestamp},
                {"prev", r.prev_token.hex()},
                {"next", r.next_token.hex()},
                {"scene_token", r.scene_token.hex()}};
  });
  write_table(version_dir, "sample_data", t.sample_data, [](const SampleDataRecord& r) {
    return Json{{"token", r.token.hex()},
                {"sample_token", r.sample_token.hex()},
                {"ego_pose_token", r.ego_pose_token.hex()},
                {"calibrated_sensor_token", r.calibrated_sensor_token.hex()},
                {"timestamp", r.timestamp},
                {"fileformat", r.fileformat},
                {"is_key_frame", r.is_key_frame},
                {"height", r.height},
                {"width", r.width},
                {"filename", r.filename},
                {"prev", r.prev_token.hex()},
                {"next", r.next_token.hex()}};
  });
  write_table(version_dir, "sample_annotation", t.sample_annotation,
              [](const SampleAnnotationRecord& r) {
                return Json{{"token", r.token.hex()},
                            {"sample_token", r.sample_token.hex()},
                            {"instance_token", r.instance_token.hex()},
                            {"visibility_token", r.visibility_token},
                            {"attribute_tokens", tokens(r.attribute_tokens)},
                            {"translation", r.translation},
                            {"size", r.size},
                            {"rotation", r.rotation},
                            {"prev", r.prev_token.hex()},
                            {"next", r.next_token.hex()},
                            {"num_lidar_pts", r.num_lidar_pts},
                            {"num_radar_pts", r.num_radar_pts}};
              });
  write_table(version_dir, "map", t.map, [](const MapRecord& r) {
    return Json{{"category", r.category},
                {"token", r.token.hex()},
                {"filename", r.filename},
                {"log_tokens", tokens(r.log_tokens)}};
  });
  if (t.has_lidarseg) {
    write_table(version_dir, "lidarseg", t.lidarseg, [](const LidarsegRecord& r) {
      return Json{{"token", r.token.hex()},
                  {"sample_data_token", r.sample_data_token.hex()},
                  {"filename", r.filename}};
    });
  }
}

}  // namespace ptqat::datasets
