// Reading the nuScenes JSON tables with simdjson's on-demand API.
//
// Note [simdjson errors]: simdjson reports no line numbers, so every error names the table file,
// the record's position in the list and, once seen, its token. String views from simdjson die
// at the next parse, so every string is copied (tokens into 128-bit integers).

#include <simdjson.h>

#include <filesystem>
#include <type_traits>

#include "core/error.h"
#include "datasets/nuscenes_tables.h"

namespace ptqat::datasets {

namespace {

namespace od = simdjson::ondemand;

/// Where a value came from, for one-line error messages.
struct Context {
  const std::string& file;
  size_t record = 0;
  Token token;
  std::string_view field;

  [[noreturn]] void fail(const std::string& expected, const std::string& detail = "") const {
    PTQAT_FAIL(DataError, "{}: record {}{}: field '{}': expected {}{}", file, record,
               token.is_null() ? "" : " (token " + token.hex() + ")", field, expected,
               detail.empty() ? "" : ", got " + detail);
  }
};

std::string_view get_string(od::value& value, const Context& context) {
  std::string_view text;
  if (value.get_string().get(text)) context.fail("a string");
  return text;
}

Token get_token(od::value& value, const Context& context) {
  const std::string_view text = get_string(value, context);
  const auto token = Token::parse(text);
  if (!token) context.fail("a 32-hex-digit token or \"\"", "\"" + std::string(text) + "\"");
  return *token;
}

int64_t get_int(od::value& value, const Context& context) {
  int64_t number = 0;
  if (value.get_int64().get(number)) context.fail("an integer");
  return number;
}

double get_double(od::value& value, const Context& context) {
  double number = 0;
  if (value.get_double().get(number)) context.fail("a number");
  return number;
}

bool get_bool(od::value& value, const Context& context) {
  bool flag = false;
  if (value.get_bool().get(flag)) context.fail("a boolean");
  return flag;
}

/// Appends every number of a (possibly nested) array: camera_intrinsic is a 3x3 list of lists.
void append_numbers(od::value& value, const Context& context, std::vector<double>& out) {
  od::array array;
  if (value.get_array().get(array)) context.fail("an array of numbers");
  for (auto element : array) {
    od::value item;
    if (element.get(item)) context.fail("an array of numbers");
    od::json_type type;
    if (item.type().get(type)) context.fail("an array of numbers");
    if (type == od::json_type::array) {
      append_numbers(item, context, out);
    } else {
      out.push_back(get_double(item, context));
    }
  }
}

template <size_t N>
std::array<double, N> get_fixed(od::value& value, const Context& context) {
  std::vector<double> numbers;
  append_numbers(value, context, numbers);
  if (numbers.size() != N) {
    context.fail(fmt::format("an array of {} numbers", N), std::to_string(numbers.size()));
  }
  std::array<double, N> out{};
  std::copy(numbers.begin(), numbers.end(), out.begin());
  return out;
}

std::vector<Token> get_tokens(od::value& value, const Context& context) {
  od::array array;
  if (value.get_array().get(array)) context.fail("an array of tokens");
  std::vector<Token> tokens;
  for (auto element : array) {
    od::value item;
    if (element.get(item)) context.fail("an array of tokens");
    tokens.push_back(get_token(item, context));
  }
  return tokens;
}

/// One field of a table: its JSON key and how to store it into a record.
template <class Record>
struct Field {
  std::string_view name;
  void (*parse)(od::value&, Record&, const Context&);
};

/// Reads `<version_dir>/<table>.json`, a JSON list of objects. Every listed field is required;
/// other fields are skipped (the devkit ignores them too).
template <class Record>
std::vector<Record> read_table(const std::string& version_dir, const std::string& table,
                               const std::vector<Field<Record>>& fields) {
  const std::string file = version_dir + "/" + table + ".json";
  PTQAT_CHECK(std::filesystem::is_regular_file(file), DataError,
              "{}: missing table (expected a JSON list of {} records)", file, table);
  simdjson::padded_string json;
  PTQAT_CHECK(!simdjson::padded_string::load(file).get(json), IoError, "{}: cannot read file",
              file);

  std::vector<Record> records;
  Context context{file, 0, Token{}, {}};
  od::parser parser;
  try {
    od::document document = parser.iterate(json);
    od::array array;
    PTQAT_CHECK(!document.get_array().get(array), DataError,
                "{}: malformed table: expected a JSON list of {} records", file, table);
    for (auto element : array) {
      od::object object;
      PTQAT_CHECK(!element.get_object().get(object), DataError,
                  "{}: record {}: expected a JSON object", file, records.size());
      context.record = records.size();
      context.token = Token{};
      Record record;
      uint64_t seen = 0;
      for (auto member : object) {
        od::field field;
        std::string_view key;
        if (const auto error = std::move(member).get(field); error)
          throw simdjson::simdjson_error(error);
        if (const auto error = field.unescaped_key().get(key); error) {
          throw simdjson::simdjson_error(error);
        }
        for (size_t f = 0; f < fields.size(); ++f) {
          if (fields[f].name != key) continue;
          context.field = fields[f].name;
          od::value value = field.value();
          fields[f].parse(value, record, context);
          if constexpr (std::is_same_v<decltype(record.token), Token>) {
            if (fields[f].name == "token") context.token = record.token;
          }
          seen |= uint64_t{1} << f;
          break;
        }
      }
      for (size_t f = 0; f < fields.size(); ++f) {
        if (!(seen & (uint64_t{1} << f))) {
          context.field = fields[f].name;
          context.fail("the field to be present", "a record without it");
        }
      }
      records.push_back(std::move(record));
    }
  } catch (const simdjson::simdjson_error& error) {
    PTQAT_FAIL(DataError, "{}: malformed JSON near record {}: {}", file, records.size(),
               error.what());
  }
  return records;
}

#define PTQAT_FIELD(Record, json_name, expression)                           \
  Field<Record> {                                                            \
    json_name, [](od::value& v, Record& r, const Context& c) { expression; } \
  }

}  // namespace

Tables read_tables(const std::string& version_dir) {
  PTQAT_CHECK(std::filesystem::is_directory(version_dir), DataError,
              "{}: no such nuScenes version folder (expected <dataroot>/<version>/ holding the "
              "JSON tables)",
              version_dir);
  Tables t;
  using Cat = CategoryRecord;
  const bool has_lidarseg = std::filesystem::exists(version_dir + "/lidarseg.json");
  std::vector<Field<Cat>> category_fields = {
      PTQAT_FIELD(Cat, "token", r.token = get_token(v, c)),
      PTQAT_FIELD(Cat, "name", r.name = get_string(v, c)),
      PTQAT_FIELD(Cat, "description", r.description = get_string(v, c))};
  // The lidarseg add-on replaces category.json with one whose records carry the label 'index'.
  if (has_lidarseg) {
    category_fields.push_back(PTQAT_FIELD(Cat, "index", r.index = static_cast<int>(get_int(v, c))));
  }
  t.category = read_table(version_dir, "category", category_fields);

  using Att = AttributeRecord;
  t.attribute =
      read_table<Att>(version_dir, "attribute",
                      {PTQAT_FIELD(Att, "token", r.token = get_token(v, c)),
                       PTQAT_FIELD(Att, "name", r.name = get_string(v, c)),
                       PTQAT_FIELD(Att, "description", r.description = get_string(v, c))});
  using Vis = VisibilityRecord;
  t.visibility =
      read_table<Vis>(version_dir, "visibility",
                      {PTQAT_FIELD(Vis, "token", r.token = get_string(v, c)),
                       PTQAT_FIELD(Vis, "level", r.level = get_string(v, c)),
                       PTQAT_FIELD(Vis, "description", r.description = get_string(v, c))});
  using Ins = InstanceRecord;
  t.instance = read_table<Ins>(
      version_dir, "instance",
      {PTQAT_FIELD(Ins, "token", r.token = get_token(v, c)),
       PTQAT_FIELD(Ins, "category_token", r.category_token = get_token(v, c)),
       PTQAT_FIELD(Ins, "nbr_annotations", r.nbr_annotations = get_int(v, c)),
       PTQAT_FIELD(Ins, "first_annotation_token", r.first_annotation_token = get_token(v, c)),
       PTQAT_FIELD(Ins, "last_annotation_token", r.last_annotation_token = get_token(v, c))});
  using Sen = SensorRecord;
  t.sensor = read_table<Sen>(version_dir, "sensor",
                             {PTQAT_FIELD(Sen, "token", r.token = get_token(v, c)),
                              PTQAT_FIELD(Sen, "channel", r.channel = get_string(v, c)),
                              PTQAT_FIELD(Sen, "modality", r.modality = get_string(v, c))});
  using Cal = CalibratedSensorRecord;
  t.calibrated_sensor = read_table<Cal>(
      version_dir, "calibrated_sensor",
      {PTQAT_FIELD(Cal, "token", r.token = get_token(v, c)),
       PTQAT_FIELD(Cal, "sensor_token", r.sensor_token = get_token(v, c)),
       PTQAT_FIELD(Cal, "translation", r.translation = get_fixed<3>(v, c)),
       PTQAT_FIELD(Cal, "rotation", r.rotation = get_fixed<4>(v, c)),
       PTQAT_FIELD(Cal, "camera_intrinsic", append_numbers(v, c, r.camera_intrinsic))});
  using Ego = EgoPoseRecord;
  t.ego_pose = read_table<Ego>(version_dir, "ego_pose",
                               {PTQAT_FIELD(Ego, "token", r.token = get_token(v, c)),
                                PTQAT_FIELD(Ego, "translation", r.translation = get_fixed<3>(v, c)),
                                PTQAT_FIELD(Ego, "rotation", r.rotation = get_fixed<4>(v, c)),
                                PTQAT_FIELD(Ego, "timestamp", r.timestamp = get_int(v, c))});
  using Log = LogRecord;
  t.log = read_table<Log>(version_dir, "log",
                          {PTQAT_FIELD(Log, "token", r.token = get_token(v, c)),
                           PTQAT_FIELD(Log, "logfile", r.logfile = get_string(v, c)),
                           PTQAT_FIELD(Log, "vehicle", r.vehicle = get_string(v, c)),
                           PTQAT_FIELD(Log, "date_captured", r.date_captured = get_string(v, c)),
                           PTQAT_FIELD(Log, "location", r.location = get_string(v, c))});
  using Sce = SceneRecord;
  t.scene = read_table<Sce>(
      version_dir, "scene",
      {PTQAT_FIELD(Sce, "token", r.token = get_token(v, c)),
       PTQAT_FIELD(Sce, "log_token", r.log_token = get_token(v, c)),
       PTQAT_FIELD(Sce, "nbr_samples", r.nbr_samples = get_int(v, c)),
       PTQAT_FIELD(Sce, "first_sample_token", r.first_sample_token = get_token(v, c)),
       PTQAT_FIELD(Sce, "last_sample_token", r.last_sample_token = get_token(v, c)),
       PTQAT_FIELD(Sce, "name", r.name = get_string(v, c)),
       PTQAT_FIELD(Sce, "description", r.description = get_string(v, c))});
  using Sam = SampleRecord;
  t.sample = read_table<Sam>(version_dir, "sample",
                             {PTQAT_FIELD(Sam, "token", r.token = get_token(v, c)),
                              PTQAT_FIELD(Sam, "timestamp", r.timestamp = get_int(v, c)),
                              PTQAT_FIELD(Sam, "scene_token", r.scene_token = get_token(v, c)),
                              PTQAT_FIELD(Sam, "prev", r.prev_token = get_token(v, c)),
                              PTQAT_FIELD(Sam, "next", r.next_token = get_token(v, c))});
  using SD = SampleDataRecord;
  t.sample_data = read_table<SD>(
      version_dir, "sample_data",
      {PTQAT_FIELD(SD, "token", r.token = get_token(v, c)),
       PTQAT_FIELD(SD, "sample_token", r.sample_token = get_token(v, c)),
       PTQAT_FIELD(SD, "ego_pose_token", r.ego_pose_token = get_token(v, c)),
       PTQAT_FIELD(SD, "calibrated_sensor_token", r.calibrated_sensor_token = get_token(v, c)),
       PTQAT_FIELD(SD, "timestamp", r.timestamp = get_int(v, c)),
       PTQAT_FIELD(SD, "fileformat", r.fileformat = get_string(v, c)),
       PTQAT_FIELD(SD, "is_key_frame", r.is_key_frame = get_bool(v, c)),
       PTQAT_FIELD(SD, "height", r.height = get_int(v, c)),
       PTQAT_FIELD(SD, "width", r.width = get_int(v, c)),
       PTQAT_FIELD(SD, "filename", r.filename = get_string(v, c)),
       PTQAT_FIELD(SD, "prev", r.prev_token = get_token(v, c)),
       PTQAT_FIELD(SD, "next", r.next_token = get_token(v, c))});
  using Ann = SampleAnnotationRecord;
  t.sample_annotation =
      read_table<Ann>(version_dir, "sample_annotation",
                      {PTQAT_FIELD(Ann, "token", r.token = get_token(v, c)),
                       PTQAT_FIELD(Ann, "sample_token", r.sample_token = get_token(v, c)),
                       PTQAT_FIELD(Ann, "instance_token", r.instance_token = get_token(v, c)),
                       PTQAT_FIELD(Ann, "visibility_token", r.visibility_token = get_string(v, c)),
                       PTQAT_FIELD(Ann, "attribute_tokens", r.attribute_tokens = get_tokens(v, c)),
                       PTQAT_FIELD(Ann, "translation", r.translation = get_fixed<3>(v, c)),
                       PTQAT_FIELD(Ann, "size", r.size = get_fixed<3>(v, c)),
                       PTQAT_FIELD(Ann, "rotation", r.rotation = get_fixed<4>(v, c)),
                       PTQAT_FIELD(Ann, "prev", r.prev_token = get_token(v, c)),
                       PTQAT_FIELD(Ann, "next", r.next_token = get_token(v, c)),
                       PTQAT_FIELD(Ann, "num_lidar_pts", r.num_lidar_pts = get_int(v, c)),
                       PTQAT_FIELD(Ann, "num_radar_pts", r.num_radar_pts = get_int(v, c))});
  using Map = MapRecord;
  t.map = read_table<Map>(version_dir, "map",
                          {PTQAT_FIELD(Map, "token", r.token = get_token(v, c)),
                           PTQAT_FIELD(Map, "log_tokens", r.log_tokens = get_tokens(v, c)),
                           PTQAT_FIELD(Map, "category", r.category = get_string(v, c)),
                           PTQAT_FIELD(Map, "filename", r.filename = get_string(v, c))});
  if (has_lidarseg) {
    using Seg = LidarsegRecord;
    t.lidarseg = read_table<Seg>(
        version_dir, "lidarseg",
        {PTQAT_FIELD(Seg, "token", r.token = get_token(v, c)),
         PTQAT_FIELD(Seg, "sample_data_token", r.sample_data_token = get_token(v, c)),
         PTQAT_FIELD(Seg, "filename", r.filename = get_string(v, c))});
    t.has_lidarseg = true;
  }
  return t;
}

}  // namespace ptqat::datasets
