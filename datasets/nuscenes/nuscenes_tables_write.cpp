// Writing the nuScenes JSON tables (used by the synthetic generator and by test fixtures).
// nlohmann's ordered_json keeps the devkit's field order, and its float output is the shortest
// round-trip form, so equal tables give byte-identical files.

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "core/error.h"
#include "datasets/nuscenes/nuscenes_tables.h"

namespace ptqat::datasets {

namespace {

using Json = nlohmann::ordered_json;

// One overload per member type of the table records that JSON does not take as it is.
template <class T>
Json to_json(const T& value) {
  return Json(value);
}
Json to_json(const Token& token) { return token.hex(); }
Json to_json(const std::vector<Token>& list) {
  Json array = Json::array();
  for (const Token& token : list) array.push_back(token.hex());
  return array;
}
/// camera_intrinsic: row-major values as a 3 x 3 list of lists.
Json to_json(const std::vector<double>& values) {
  Json rows = Json::array();
  for (size_t r = 0; r + 2 < values.size(); r += 3) {
    rows.push_back(Json::array({values[r], values[r + 1], values[r + 2]}));
  }
  return rows;
}

/// Writes `records` as `<version_dir>/<table>.json`, one record per line.
template <class Record>
void write_table(const std::string& version_dir, const std::string& table,
                 const std::vector<Record>& records, bool has_lidarseg) {
  const std::string file = version_dir + "/" + table + ".json";
  std::ofstream out(file, std::ios::binary);
  PTQAT_CHECK(out.good(), IoError, "{}: cannot open for writing", file);
  out << "[\n";
  for (size_t i = 0; i < records.size(); ++i) {
    Json json = Json::object();
    Record::fields(
        [&](const char* name, auto member) { json[name] = to_json(records[i].*member); });
    if constexpr (std::is_same_v<Record, CategoryRecord>) {
      if (has_lidarseg) json["index"] = records[i].index;  // Note [table schema]
    }
    out << json.dump() << (i + 1 < records.size() ? ",\n" : "\n");
  }
  out << "]\n";
  out.flush();
  PTQAT_CHECK(out.good(), IoError, "{}: write failed", file);
}

}  // namespace

void write_tables(const Tables& tables, const std::string& version_dir) {
  std::filesystem::create_directories(version_dir);
  for_each_table(tables, [&](const char* name, const auto& records) {
    write_table(version_dir, name, records, tables.has_lidarseg);
  });
}

}  // namespace ptqat::datasets
