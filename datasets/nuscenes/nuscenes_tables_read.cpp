// Reading the nuScenes JSON tables with simdjson's on-demand API.
//
// Note [simdjson errors]: simdjson reports no line numbers, so every error names the table file,
// the record's position in the list and, once seen, its token. String views from simdjson die
// at the next parse, so every string is copied (tokens into 128-bit integers).

#include <simdjson.h>

#include <array>
#include <filesystem>
#include <functional>
#include <type_traits>

#include "core/error.h"
#include "datasets/nuscenes/nuscenes_tables.h"

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

// One overload per member type of the table records (nuscenes_tables.h).
void parse_value(od::value& v, Token& out, const Context& c) { out = get_token(v, c); }
void parse_value(od::value& v, std::string& out, const Context& c) { out = get_string(v, c); }
void parse_value(od::value& v, int64_t& out, const Context& c) { out = get_int(v, c); }
void parse_value(od::value& v, int& out, const Context& c) {
  out = static_cast<int>(get_int(v, c));
}
void parse_value(od::value& v, bool& out, const Context& c) { out = get_bool(v, c); }
template <size_t N>
void parse_value(od::value& v, std::array<double, N>& out, const Context& c) {
  out = get_fixed<N>(v, c);
}
/// camera_intrinsic: a 3 x 3 list of lists (empty for non-cameras), kept row-major.
void parse_value(od::value& v, std::vector<double>& out, const Context& c) {
  append_numbers(v, c, out);
}
void parse_value(od::value& v, std::vector<Token>& out, const Context& c) {
  out = get_tokens(v, c);
}

/// One field of a table: its JSON key and how to store it into a record.
template <class Record>
struct Field {
  std::string_view name;
  std::function<void(od::value&, Record&, const Context&)> parse;
};

template <class Record, class Member>
Field<Record> field_of(std::string_view name, Member Record::*member) {
  return {name,
          [member](od::value& v, Record& r, const Context& c) { parse_value(v, r.*member, c); }};
}

/// The fields of `Record`'s table (Note [table schema]).
template <class Record>
std::vector<Field<Record>> schema_fields() {
  std::vector<Field<Record>> fields;
  Record::fields(
      [&](std::string_view name, auto member) { fields.push_back(field_of(name, member)); });
  return fields;
}

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

}  // namespace

Tables read_tables(const std::string& version_dir) {
  PTQAT_CHECK(std::filesystem::is_directory(version_dir), DataError,
              "{}: no such nuScenes version folder (expected <dataroot>/<version>/ holding the "
              "JSON tables)",
              version_dir);
  Tables tables;
  tables.has_lidarseg = std::filesystem::exists(version_dir + "/lidarseg.json");
  for_each_table(tables, [&](const char* name, auto& records) {
    using Record = typename std::decay_t<decltype(records)>::value_type;
    std::vector<Field<Record>> fields = schema_fields<Record>();
    if constexpr (std::is_same_v<Record, CategoryRecord>) {
      // The lidarseg add-on replaces category.json with one whose records carry the label index.
      if (tables.has_lidarseg) fields.push_back(field_of("index", &CategoryRecord::index));
    }
    records = read_table(version_dir, name, fields);
  });
  return tables;
}

}  // namespace ptqat::datasets
