#pragma once
// The nuScenes JSON tables (NUSCENES.md section 2) as plain records. Foreign keys are kept as
// tokens (what the files hold) and resolved once into row indices (what the code uses); -1 marks
// an empty key. Only the fields that LiDAR detection, lidarseg and occupancy need are kept.

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/geometry.h"
#include "datasets/token.h"

namespace ptqat::datasets {

using Row = int32_t;  ///< index of a record in its table; -1 = none
inline constexpr Row kNoRow = -1;

struct CategoryRecord {
  Token token;
  std::string name;
  std::string description;
  int index = -1;  ///< lidarseg label value; only in the lidarseg/panoptic category.json
};

struct AttributeRecord {
  Token token;
  std::string name;
  std::string description;
};

struct VisibilityRecord {
  std::string token;  ///< "1".."4": the one table whose tokens are not hex
  std::string level;
  std::string description;
};

struct InstanceRecord {
  Token token, category_token, first_annotation_token, last_annotation_token;
  int64_t nbr_annotations = 0;
  Row category = kNoRow;
};

struct SensorRecord {
  Token token;
  std::string channel;
  std::string modality;
};

struct CalibratedSensorRecord {
  Token token, sensor_token;
  Vec3 translation{};
  Quat rotation{1, 0, 0, 0};
  std::vector<double> camera_intrinsic;  ///< 9 values row-major, empty for non-cameras
  Row sensor = kNoRow;
};

struct EgoPoseRecord {
  Token token;
  Vec3 translation{};
  Quat rotation{1, 0, 0, 0};
  int64_t timestamp = 0;
};

struct LogRecord {
  Token token;
  std::string logfile, vehicle, date_captured, location;
};

struct SceneRecord {
  Token token, log_token, first_sample_token, last_sample_token;
  std::string name, description;
  int64_t nbr_samples = 0;
  Row log = kNoRow, first_sample = kNoRow, last_sample = kNoRow;
};

struct SampleRecord {
  Token token, scene_token, prev_token, next_token;
  int64_t timestamp = 0;
  Row scene = kNoRow, prev = kNoRow, next = kNoRow;
  Row lidar_top = kNoRow;        ///< the LIDAR_TOP keyframe sample_data (sample.data['LIDAR_TOP'])
  std::vector<Row> annotations;  ///< sample.anns, in sample_annotation.json order
};

struct SampleDataRecord {
  Token token, sample_token, ego_pose_token, calibrated_sensor_token, prev_token, next_token;
  std::string filename, fileformat;
  int64_t timestamp = 0;
  int64_t width = 0, height = 0;
  bool is_key_frame = false;
  Row sample = kNoRow, ego_pose = kNoRow, calibrated_sensor = kNoRow, prev = kNoRow, next = kNoRow;
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
};

struct MapRecord {
  Token token;
  std::string category, filename;
  std::vector<Token> log_tokens;
};

/// lidarseg.json / panoptic.json: token == sample_data_token for real data.
struct LidarsegRecord {
  Token token, sample_data_token;
  std::string filename;
  Row sample_data = kNoRow;
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

/// Reads every table of `<dataroot>/<version>/` (lidarseg.json only when present). A missing
/// folder or table, malformed JSON, a wrong field type or a malformed token is a DataError naming
/// the file, the record (index and token) and the field. Foreign keys are not resolved here.
Tables read_tables(const std::string& version_dir);

/// Writes every table as `<version_dir>/<table>.json` in the devkit's format (JSON lists of
/// records; floats in shortest round-trip form so output is byte-identical for the same input).
void write_tables(const Tables& tables, const std::string& version_dir);

}  // namespace ptqat::datasets
