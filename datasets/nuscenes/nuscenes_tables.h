#pragma once
// The nuScenes JSON tables (docs/nuscenes.md section 2) as plain records. Foreign keys are kept
// as tokens (what the files hold) and resolved once into row indices (what the code uses); -1
// marks an empty key. Only the fields that LiDAR detection, lidarseg and occupancy need are kept.
//
// Note [table schema]: each record lists its JSON fields once, as (key, member) pairs in the
// devkit's order, and for_each_table() lists the tables once; the reader
// (nuscenes_tables_read.cpp) and the writer (nuscenes_tables_write.cpp) both walk these lists.
// Row indices are resolved after reading and are not fields. One field is conditional:
// category.json has the lidarseg label `index` only in a version with the lidarseg add-on.

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/geometry.h"
#include "datasets/nuscenes/token.h"

namespace ptqat::datasets {

using Row = int32_t;  ///< index of a record in its table; -1 = none
inline constexpr Row kNoRow = -1;

struct CategoryRecord {
  Token token;
  std::string name;
  std::string description;
  int index = -1;  ///< lidarseg label value; only in the lidarseg/panoptic category.json

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &CategoryRecord::token);
    field("name", &CategoryRecord::name);
    field("description", &CategoryRecord::description);
  }
};

struct AttributeRecord {
  Token token;
  std::string name;
  std::string description;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &AttributeRecord::token);
    field("name", &AttributeRecord::name);
    field("description", &AttributeRecord::description);
  }
};

struct VisibilityRecord {
  std::string token;  ///< "1".."4": the one table whose tokens are not hex
  std::string level;
  std::string description;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &VisibilityRecord::token);
    field("level", &VisibilityRecord::level);
    field("description", &VisibilityRecord::description);
  }
};

struct InstanceRecord {
  Token token, category_token, first_annotation_token, last_annotation_token;
  int64_t nbr_annotations = 0;
  Row category = kNoRow;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &InstanceRecord::token);
    field("category_token", &InstanceRecord::category_token);
    field("nbr_annotations", &InstanceRecord::nbr_annotations);
    field("first_annotation_token", &InstanceRecord::first_annotation_token);
    field("last_annotation_token", &InstanceRecord::last_annotation_token);
  }
};

struct SensorRecord {
  Token token;
  std::string channel;
  std::string modality;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &SensorRecord::token);
    field("channel", &SensorRecord::channel);
    field("modality", &SensorRecord::modality);
  }
};

struct CalibratedSensorRecord {
  Token token, sensor_token;
  Vec3 translation{};
  Quat rotation{1, 0, 0, 0};
  std::vector<double> camera_intrinsic;  ///< 9 values row-major, empty for non-cameras
  Row sensor = kNoRow;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &CalibratedSensorRecord::token);
    field("sensor_token", &CalibratedSensorRecord::sensor_token);
    field("translation", &CalibratedSensorRecord::translation);
    field("rotation", &CalibratedSensorRecord::rotation);
    field("camera_intrinsic", &CalibratedSensorRecord::camera_intrinsic);
  }
};

struct EgoPoseRecord {
  Token token;
  Vec3 translation{};
  Quat rotation{1, 0, 0, 0};
  int64_t timestamp = 0;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &EgoPoseRecord::token);
    field("timestamp", &EgoPoseRecord::timestamp);
    field("rotation", &EgoPoseRecord::rotation);
    field("translation", &EgoPoseRecord::translation);
  }
};

struct LogRecord {
  Token token;
  std::string logfile, vehicle, date_captured, location;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &LogRecord::token);
    field("logfile", &LogRecord::logfile);
    field("vehicle", &LogRecord::vehicle);
    field("date_captured", &LogRecord::date_captured);
    field("location", &LogRecord::location);
  }
};

struct SceneRecord {
  Token token, log_token, first_sample_token, last_sample_token;
  std::string name, description;
  int64_t nbr_samples = 0;
  Row log = kNoRow, first_sample = kNoRow, last_sample = kNoRow;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &SceneRecord::token);
    field("log_token", &SceneRecord::log_token);
    field("nbr_samples", &SceneRecord::nbr_samples);
    field("first_sample_token", &SceneRecord::first_sample_token);
    field("last_sample_token", &SceneRecord::last_sample_token);
    field("name", &SceneRecord::name);
    field("description", &SceneRecord::description);
  }
};

struct SampleRecord {
  Token token, scene_token, prev_token, next_token;
  int64_t timestamp = 0;
  Row scene = kNoRow, prev = kNoRow, next = kNoRow;
  Row lidar_top = kNoRow;        ///< the LIDAR_TOP keyframe sample_data (sample.data['LIDAR_TOP'])
  std::vector<Row> annotations;  ///< sample.anns, in sample_annotation.json order

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &SampleRecord::token);
    field("timestamp", &SampleRecord::timestamp);
    field("prev", &SampleRecord::prev_token);
    field("next", &SampleRecord::next_token);
    field("scene_token", &SampleRecord::scene_token);
  }
};

struct SampleDataRecord {
  Token token, sample_token, ego_pose_token, calibrated_sensor_token, prev_token, next_token;
  std::string filename, fileformat;
  int64_t timestamp = 0;
  int64_t width = 0, height = 0;
  bool is_key_frame = false;
  Row sample = kNoRow, ego_pose = kNoRow, calibrated_sensor = kNoRow, prev = kNoRow, next = kNoRow;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &SampleDataRecord::token);
    field("sample_token", &SampleDataRecord::sample_token);
    field("ego_pose_token", &SampleDataRecord::ego_pose_token);
    field("calibrated_sensor_token", &SampleDataRecord::calibrated_sensor_token);
    field("timestamp", &SampleDataRecord::timestamp);
    field("fileformat", &SampleDataRecord::fileformat);
    field("is_key_frame", &SampleDataRecord::is_key_frame);
    field("height", &SampleDataRecord::height);
    field("width", &SampleDataRecord::width);
    field("filename", &SampleDataRecord::filename);
    field("prev", &SampleDataRecord::prev_token);
    field("next", &SampleDataRecord::next_token);
  }
};

struct SampleAnnotationRecord {
  Token token, sample_token, instance_token, prev_token, next_token;
  std::vector<Token> attribute_tokens;
  std::string visibility_token;
  Vec3 translation{};  ///< global box centre
  Vec3 size{};         ///< w, l, h
  Quat rotation{1, 0, 0, 0};
  int64_t num_lidar_pts = 0, num_radar_pts = 0;
  Row sample = kNoRow, instance = kNoRow, prev = kNoRow, next = kNoRow;
  std::vector<Row> attributes;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &SampleAnnotationRecord::token);
    field("sample_token", &SampleAnnotationRecord::sample_token);
    field("instance_token", &SampleAnnotationRecord::instance_token);
    field("visibility_token", &SampleAnnotationRecord::visibility_token);
    field("attribute_tokens", &SampleAnnotationRecord::attribute_tokens);
    field("translation", &SampleAnnotationRecord::translation);
    field("size", &SampleAnnotationRecord::size);
    field("rotation", &SampleAnnotationRecord::rotation);
    field("prev", &SampleAnnotationRecord::prev_token);
    field("next", &SampleAnnotationRecord::next_token);
    field("num_lidar_pts", &SampleAnnotationRecord::num_lidar_pts);
    field("num_radar_pts", &SampleAnnotationRecord::num_radar_pts);
  }
};

struct MapRecord {
  Token token;
  std::string category, filename;
  std::vector<Token> log_tokens;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("category", &MapRecord::category);
    field("token", &MapRecord::token);
    field("filename", &MapRecord::filename);
    field("log_tokens", &MapRecord::log_tokens);
  }
};

/// lidarseg.json / panoptic.json: token == sample_data_token for real data.
struct LidarsegRecord {
  Token token, sample_data_token;
  std::string filename;
  Row sample_data = kNoRow;

  /// The JSON fields, in the devkit's order (Note [table schema]).
  template <class Visit>
  static void fields(Visit&& field) {
    field("token", &LidarsegRecord::token);
    field("sample_data_token", &LidarsegRecord::sample_data_token);
    field("filename", &LidarsegRecord::filename);
  }
};

/// Every table of one version folder.
struct Tables {
  std::vector<CategoryRecord> category;
  std::vector<AttributeRecord> attribute;
  std::vector<VisibilityRecord> visibility;
  std::vector<InstanceRecord> instance;
  std::vector<SensorRecord> sensor;
  std::vector<CalibratedSensorRecord> calibrated_sensor;
  std::vector<EgoPoseRecord> ego_pose;
  std::vector<LogRecord> log;
  std::vector<SceneRecord> scene;
  std::vector<SampleRecord> sample;
  std::vector<SampleDataRecord> sample_data;
  std::vector<SampleAnnotationRecord> sample_annotation;
  std::vector<MapRecord> map;
  std::vector<LidarsegRecord> lidarseg;  ///< empty when the lidarseg add-on is absent
  bool has_lidarseg = false;
};

/// Calls `table(name, records)` for every table of `tables`, in reading order; lidarseg only when
/// tables.has_lidarseg (Note [table schema]).
template <class AnyTables, class Visit>
void for_each_table(AnyTables& tables, Visit&& table) {
  table("category", tables.category);
  table("attribute", tables.attribute);
  table("visibility", tables.visibility);
  table("instance", tables.instance);
  table("sensor", tables.sensor);
  table("calibrated_sensor", tables.calibrated_sensor);
  table("ego_pose", tables.ego_pose);
  table("log", tables.log);
  table("scene", tables.scene);
  table("sample", tables.sample);
  table("sample_data", tables.sample_data);
  table("sample_annotation", tables.sample_annotation);
  table("map", tables.map);
  if (tables.has_lidarseg) table("lidarseg", tables.lidarseg);
}

/// Reads every table of `<dataroot>/<version>/` (lidarseg.json only when present). A missing
/// folder or table, malformed JSON, a wrong field type or a malformed token is a DataError naming
/// the file, the record (index and token) and the field. Foreign keys are not resolved here.
Tables read_tables(const std::string& version_dir);

/// Writes every table as `<version_dir>/<table>.json` in the devkit's format (JSON lists of
/// records; floats in shortest round-trip form so output is byte-identical for the same input).
void write_tables(const Tables& tables, const std::string& version_dir);

}  // namespace ptqat::datasets
