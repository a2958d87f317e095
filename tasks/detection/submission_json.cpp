// Reading and writing nuScenes detection submissions.
//
// Note [NaN in submissions]: Python's json module writes a NaN float as the bare literal NaN
// and reads it back, so devkit-made submissions hold NaN velocities that strict JSON parsers
// (simdjson included) reject. The reader rewrites a bare NaN outside strings to null before
// parsing and reads null as NaN; the writer writes NaN, so the devkit reads our files as well.

#include "tasks/detection/submission_json.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <iterator>
#include <utility>

#include "core/durable_file.h"
#include "core/error.h"
#include "datasets/nuscenes/categories.h"
#include "tasks/detection/detection_gt.h"

namespace ptqat::tasks::detection {

namespace {

namespace od = simdjson::ondemand;

/// Where a value sits in the file, for one-line messages.
struct Where {
  const std::string& file;
  std::string sample;  ///< the results key, once known
  int64_t box = -1;
  std::string_view field;

  std::string prefix() const {
    std::string text = file;
    if (!sample.empty()) text += ": sample " + sample;
    if (box >= 0) text += fmt::format(": box {}", box);
    if (!field.empty()) text += fmt::format(": field '{}'", field);
    return text;
  }
  [[noreturn]] void fail(const std::string& message) const {
    PTQAT_FAIL(DataError, "{}: {}", prefix(), message);
  }
};

std::string rewrite_nan_literals(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c == 'N' && text.compare(i, 3, "NaN") == 0) {
      out += "null";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view read_string(od::value& value, const Where& where) {
  std::string_view text;
  if (value.get_string().get(text)) where.fail("expected a string");
  return text;
}

/// A number, or NaN for null (a rewritten NaN literal, see Note [NaN in submissions]).
double read_number(od::value& value, const Where& where) {
  od::json_type type;
  if (value.type().get(type)) where.fail("expected a number");
  if (type == od::json_type::null) return kNaN;
  double number = 0;
  if (type != od::json_type::number || value.get_double().get(number)) {
    where.fail("expected a number");
  }
  return number;
}

template <size_t N>
std::array<double, N> read_numbers(od::value& value, const Where& where) {
  const std::string expected = fmt::format("expected a list of {} numbers", N);
  od::array array;
  if (value.get_array().get(array)) where.fail(expected);
  std::array<double, N> out{};
  size_t count = 0;
  for (auto element : array) {
    od::value item;
    if (element.get(item)) where.fail(expected);
    if (count == N) where.fail(expected + ", got more");
    out[count++] = read_number(item, where);
  }
  if (count != N) where.fail(fmt::format("{}, got {}", expected, count));
  return out;
}

DetectionBox read_box(od::value& value, Where where, const Token& key) {
  od::object object;
  if (value.get_object().get(object)) where.fail("expected a box object");
  DetectionBox box;
  constexpr std::array<std::string_view, 8> kRequired = {
      "sample_token",   "translation",     "size",          "rotation", "velocity",
      "detection_name", "detection_score", "attribute_name"};
  std::array<bool, kRequired.size()> seen{};
  for (auto member : object) {
    od::field field;
    std::string_view key_text;
    if (std::move(member).get(field) || field.unescaped_key().get(key_text))
      where.fail("malformed JSON");
    od::value& v = field.value();
    where.field = key_text;
    for (size_t r = 0; r < kRequired.size(); ++r) seen[r] = seen[r] || kRequired[r] == key_text;
    if (key_text == "sample_token") {
      const std::string_view text = read_string(v, where);
      const auto token = Token::parse(text);
      if (!token || *token != key) {
        where.fail(fmt::format("expected the sample's key {}, got \"{}\"", key.hex(), text));
      }
      box.sample_token = *token;
    } else if (key_text == "translation") {
      box.translation = read_numbers<3>(v, where);
    } else if (key_text == "size") {
      box.size = read_numbers<3>(v, where);
    } else if (key_text == "rotation") {
      box.rotation = read_numbers<4>(v, where);
    } else if (key_text == "velocity") {
      box.velocity = read_numbers<2>(v, where);
    } else if (key_text == "detection_name") {
      const std::string_view name = read_string(v, where);
      box.detection_class = detection_class_index(name);
      if (box.detection_class < 0) {
        where.fail(fmt::format("\"{}\" is not one of the 10 detection classes", name));
      }
    } else if (key_text == "detection_score") {
      box.score = read_number(v, where);
    } else if (key_text == "attribute_name") {
      const std::string_view name = read_string(v, where);
      box.attribute = name.empty() ? -1 : datasets::attribute_index(name);
      if (!name.empty() && box.attribute < 0) {
        where.fail(fmt::format("\"{}\" is not one of the 8 attributes or \"\"", name));
      }
    } else if (key_text == "num_pts") {
      const double number = read_number(v, where);
      if (!(std::trunc(number) == number)) where.fail("expected an integer");
      box.num_pts = static_cast<int64_t>(number);
    }
  }
  for (size_t r = 0; r < kRequired.size(); ++r) {
    where.field = kRequired[r];
    if (!seen[r]) where.fail("missing (every box needs it)");
  }
  where.field = {};
  check_box(box, where.prefix());
  return box;
}

SubmissionMeta read_meta(od::value& value, Where where) {
  od::object object;
  if (value.get_object().get(object)) where.fail("expected an object of use_* flags");
  SubmissionMeta meta;
  for (auto member : object) {
    od::field field;
    std::string_view key;
    if (std::move(member).get(field) || field.unescaped_key().get(key))
      where.fail("malformed JSON");
    bool* flag = key == "use_camera"     ? &meta.use_camera
                 : key == "use_lidar"    ? &meta.use_lidar
                 : key == "use_radar"    ? &meta.use_radar
                 : key == "use_map"      ? &meta.use_map
                 : key == "use_external" ? &meta.use_external
                                         : nullptr;
    if (flag == nullptr) continue;
    Where at = where;
    at.field = key;
    if (field.value().get_bool().get(*flag)) at.fail("expected true or false");
  }
  return meta;
}

void read_results(od::value& value, const Where& where, int max_boxes_per_sample,
                  DetectionResults& results) {
  od::object object;
  if (value.get_object().get(object)) {
    where.fail("expected an object mapping sample tokens to lists of boxes");
  }
  for (auto member : object) {
    od::field field;
    std::string_view key;
    if (std::move(member).get(field) || field.unescaped_key().get(key))
      where.fail("malformed JSON");
    Where at{where.file, std::string(key), -1, {}};
    const auto token = Token::parse(key);
    if (!token || token->is_null()) at.fail("the key is not a 32-hex-digit sample token");
    if (results.position(*token) >= 0) at.fail("the sample appears twice in 'results'");
    od::array array;
    if (field.value().get_array().get(array)) at.fail("expected a list of boxes");
    std::vector<DetectionBox> boxes;
    for (auto element : array) {
      od::value item;
      if (element.get(item)) at.fail("malformed JSON");
      Where box_at = at;
      box_at.box = static_cast<int64_t>(boxes.size());
      boxes.push_back(read_box(item, box_at, *token));
    }
    if (boxes.size() > static_cast<size_t>(max_boxes_per_sample)) {
      at.fail(fmt::format("{} boxes (at most {} per sample)", boxes.size(), max_boxes_per_sample));
    }
    results.add(*token, std::move(boxes));
  }
}

/// Shortest round-trip text of a double; NaN as Python writes it, -0 kept as a float.
void append_number(fmt::memory_buffer& out, double value) {
  if (std::isnan(value)) {
    fmt::format_to(std::back_inserter(out), "NaN");
  } else if (value == 0 && std::signbit(value)) {
    fmt::format_to(std::back_inserter(out), "-0.0");
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

template <size_t N>
void append_numbers(fmt::memory_buffer& out, const std::array<double, N>& values) {
  out.push_back('[');
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) fmt::format_to(std::back_inserter(out), ", ");
    append_number(out, values[i]);
  }
  out.push_back(']');
}

void check_finite(const double* values, size_t count, bool nan_allowed, const char* field,
                  const std::string& where) {
  for (size_t i = 0; i < count; ++i) {
    PTQAT_CHECK(std::isfinite(values[i]) || (nan_allowed && std::isnan(values[i])), DataError,
                "{}: field '{}': value {} is {} (JSON cannot hold it)", where, field, i, values[i]);
  }
}

}  // namespace

nlohmann::ordered_json SubmissionMeta::to_json() const {
  return {{"use_camera", use_camera},
          {"use_lidar", use_lidar},
          {"use_radar", use_radar},
          {"use_map", use_map},
          {"use_external", use_external}};
}

Submission read_submission(const std::string& path, int max_boxes_per_sample) {
  simdjson::padded_string json;
  PTQAT_CHECK(!simdjson::padded_string::load(path).get(json), IoError,
              "{}: cannot read the submission file", path);
  if (std::string_view(json.data(), json.size()).find("NaN") != std::string_view::npos) {
    json =
        simdjson::padded_string(rewrite_nan_literals(std::string_view(json.data(), json.size())));
  }
  const Where where{path, {}, -1, {}};
  Submission submission;
  bool has_meta = false, has_results = false;
  try {
    od::parser parser;
    od::document document;
    if (parser.iterate(json).get(document)) where.fail("malformed JSON");
    od::object root;
    if (document.get_object().get(root)) {
      where.fail("expected a JSON object with 'meta' and 'results'");
    }
    for (auto member : root) {
      od::field field;
      std::string_view key;
      if (std::move(member).get(field) || field.unescaped_key().get(key))
        where.fail("malformed JSON");
      if (key == "meta") {
        Where at = where;
        at.field = "meta";
        submission.meta = read_meta(field.value(), at);
        has_meta = true;
      } else if (key == "results") {
        read_results(field.value(), where, max_boxes_per_sample, submission.results);
        has_results = true;
      }
    }
  } catch (const simdjson::simdjson_error& error) {
    where.fail(fmt::format("malformed JSON: {}", error.what()));
  }
  if (!has_results) where.fail("no field 'results' (the submission format is {meta, results})");
  if (!has_meta) where.fail("no field 'meta' (the submission format is {meta, results})");
  return submission;
}

void write_submission(const std::string& path, const Submission& submission) {
  fmt::memory_buffer out;
  const auto append = [&](std::string_view text) { out.append(text); };
  append("{\"meta\": ");
  append(submission.meta.to_json().dump());
  append(",\n\"results\": {");
  const auto& entries = submission.results.entries();
  for (size_t s = 0; s < entries.size(); ++s) {
    const auto& [token, boxes] = entries[s];
    fmt::format_to(std::back_inserter(out), "{}\n\"{}\": [", s > 0 ? "," : "", token.hex());
    for (size_t b = 0; b < boxes.size(); ++b) {
      const DetectionBox& box = boxes[b];
      const std::string where = fmt::format("{}: sample {}: box {}", path, token.hex(), b);
      check_box(box, where);
      PTQAT_CHECK(box.sample_token == token, DataError,
                  "{}: field 'sample_token': expected the sample's key, got {}", where,
                  box.sample_token.hex());
      check_finite(box.translation.data(), 3, false, "translation", where);
      check_finite(box.size.data(), 3, false, "size", where);
      check_finite(box.rotation.data(), 4, false, "rotation", where);
      check_finite(box.velocity.data(), 2, true, "velocity", where);
      check_finite(&box.score, 1, false, "detection_score", where);
      fmt::format_to(std::back_inserter(out),
                     "{}\n {{\"sample_token\": \"{}\", \"translation\": ", b > 0 ? "," : "",
                     token.hex());
      append_numbers(out, box.translation);
      append(", \"size\": ");
      append_numbers(out, box.size);
      append(", \"rotation\": ");
      append_numbers(out, box.rotation);
      append(", \"velocity\": ");
      append_numbers(out, box.velocity);
      fmt::format_to(std::back_inserter(out),
                     ", \"detection_name\": \"{}\", \"detection_score\": ", box.detection_name());
      append_number(out, box.score);
      fmt::format_to(std::back_inserter(out), ", \"attribute_name\": \"{}\"}}",
                     box.attribute_name());
    }
    append("]");
  }
  append("\n}}\n");

  core::write_file_durably(path, std::string_view(out.data(), out.size()));
}

}  // namespace ptqat::tasks::detection
