#include "tasks/detection/submission_json.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::tasks::detection {
namespace {

using testing::expect_error;
using testing::TempDir;
using testing::write_text;

const Token kFirst{0xabcdef0123456789ULL, 0x0123456789abcdefULL};
const Token kSecond{0x1111111111111111ULL, 0x2222222222222222ULL};

DetectionBox sample_box(const Token& sample, double offset) {
  DetectionBox b;
  b.sample_token = sample;
  // Values with long decimal expansions and extreme magnitudes test the round trip.
  b.translation = {410.574364172686 + offset, 1106.729963241789, -0.1 / 3.0};
  b.size = {1.8080306162995776, 4.886827554705259e-3, 1e-300};
  b.rotation = {0.9993380817946134, -0.0, 5e-324, 0.03637854140922404};
  b.velocity = {3.939457443930328, -1e22};
  b.detection_class = detection_class_index("pedestrian");
  b.score = 0.1 + 0.2;
  b.attribute = datasets::attribute_index("pedestrian.standing");
  return b;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

void expect_same_box(const DetectionBox& a, const DetectionBox& b) {
  EXPECT_EQ(a.sample_token, b.sample_token);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_bits(a.translation[i], b.translation[i])) << i;
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_bits(a.size[i], b.size[i])) << i;
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(same_bits(a.rotation[i], b.rotation[i])) << i;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(same_bits(a.velocity[i], b.velocity[i]) ||
                (std::isnan(a.velocity[i]) && std::isnan(b.velocity[i])))
        << i;
  }
  EXPECT_EQ(a.detection_class, b.detection_class);
  EXPECT_TRUE(same_bits(a.score, b.score));
  EXPECT_EQ(a.attribute, b.attribute);
  EXPECT_EQ(b.num_pts, -1);
}

/// A one-box submission whose box is `box_json` (an object body without braces).
std::string one_box_file(const TempDir& dir, const std::string& box_json) {
  const std::string path = dir.file("submission.json");
  write_text(path, "{\"meta\": {\"use_lidar\": true}, \"results\": {\"" + kFirst.hex() + "\": [{" +
                       box_json + "}]}}");
  return path;
}

std::string valid_box_json(const std::string& replace_key = "", const std::string& with = "") {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"sample_token", fmt::format("\"{}\"", kFirst.hex())},
      {"translation", "[1.0, 2.0, 3.0]"},
      {"size", "[1, 2, 3]"},
      {"rotation", "[1, 0, 0, 0]"},
      {"velocity", "[0.5, NaN]"},
      {"detection_name", "\"car\""},
      {"detection_score", "0.5"},
      {"attribute_name", "\"\""}};
  std::string out;
  for (const auto& [key, value] : fields) {
    if (key == replace_key && with.empty()) continue;
    if (!out.empty()) out += ", ";
    out += "\"" + key + "\": " + (key == replace_key ? with : value);
  }
  return out;
}

TEST(SubmissionJson, RoundTripKeepsEveryBitAndTheSampleOrder) {
  TempDir dir;
  Submission submission;
  submission.meta.use_lidar = true;
  submission.meta.use_map = true;
  DetectionBox with_nan = sample_box(kSecond, 1.0);
  with_nan.velocity = {std::numeric_limits<double>::quiet_NaN(), 0.25};
  with_nan.attribute = -1;
  with_nan.detection_class = detection_class_index("barrier");
  // kSecond first: the file keeps insertion order, which ranks equal scores.
  submission.results.add(kSecond, {with_nan, sample_box(kSecond, 2.0)});
  submission.results.add(kFirst, {});
  const std::string path = dir.file("out/submission.json");
  std::filesystem::create_directories(dir.path() / "out");
  write_submission(path, submission);

  const Submission back = read_submission(path);
  EXPECT_EQ(back.meta, submission.meta);
  ASSERT_EQ(back.results.num_samples(), 2u);
  EXPECT_EQ(back.results.entries()[0].first, kSecond);
  EXPECT_EQ(back.results.entries()[1].first, kFirst);
  EXPECT_TRUE(back.results.entries()[1].second.empty());
  ASSERT_EQ(back.results.entries()[0].second.size(), 2u);
  for (size_t b = 0; b < 2; ++b) {
    expect_same_box(submission.results.entries()[0].second[b], back.results.entries()[0].second[b]);
  }
  // Writing what was read gives the same bytes.
  const std::string again = dir.file("again.json");
  write_submission(again, back);
  std::ifstream first(path), second(again);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(first), {}),
            std::string(std::istreambuf_iterator<char>(second), {}));
}

TEST(SubmissionJson, ReadsPythonNanAndOptionalFields) {
  TempDir dir;
  const std::string path =
      one_box_file(dir, valid_box_json() + ", \"num_pts\": 0, \"ego_translation\": [0, 0, 0]");
  const Submission submission = read_submission(path);
  EXPECT_TRUE(submission.meta.use_lidar);
  EXPECT_FALSE(submission.meta.use_camera);
  const DetectionBox& b = submission.results.entries()[0].second[0];
  EXPECT_EQ(b.velocity[0], 0.5);
  EXPECT_TRUE(std::isnan(b.velocity[1]));
  EXPECT_EQ(b.num_pts, 0);
  EXPECT_EQ(b.size[1], 2.0);  // integers are numbers too
  EXPECT_EQ(b.detection_class, detection_class_index("car"));
  EXPECT_EQ(b.attribute, -1);
}

TEST(SubmissionJson, NanTranslationNamesTheFileSampleAndField) {
  TempDir dir;
  const std::string path = one_box_file(dir, valid_box_json("translation", "[1.0, NaN, 3.0]"));
  expect_error<DataError>([&] { read_submission(path); },
                          {path, kFirst.hex(), "box 0", "translation[1] is NaN"});
}

TEST(SubmissionJson, LoadingChecksAreOneLineErrors) {
  TempDir dir;
  const auto fails_with = [&](const std::string& box_json,
                              std::initializer_list<std::string> parts) {
    const std::string path = one_box_file(dir, box_json);
    expect_error<DataError>([&] { read_submission(path); }, parts);
  };
  fails_with(valid_box_json("detection_name", "\"van\""),
             {kFirst.hex(), "detection_name", "\"van\" is not one of the 10"});
  fails_with(valid_box_json("attribute_name", "\"vehicle.flying\""),
             {"attribute_name", "vehicle.flying"});
  fails_with(valid_box_json("detection_score", "NaN"), {kFirst.hex(), "detection_score is NaN"});
  fails_with(valid_box_json("size", "[1, NaN, 3]"), {"size[1] is NaN"});
  fails_with(valid_box_json("rotation", "[1, 0, 0]"),
             {"field 'rotation'", "expected a list of 4 numbers, got 3"});
  fails_with(valid_box_json("velocity", ""), {"field 'velocity'", "missing"});
  fails_with(valid_box_json("sample_token", fmt::format("\"{}\"", kSecond.hex())),
             {"field 'sample_token'", kFirst.hex(), kSecond.hex()});
  fails_with(valid_box_json("detection_score", "\"high\""),
             {"field 'detection_score'", "expected a number"});
}

TEST(SubmissionJson, FileLevelChecks) {
  TempDir dir;
  const std::string path = dir.file("bad.json");
  write_text(path, "{\"meta\": {}}");
  expect_error<DataError>([&] { read_submission(path); }, {path, "no field 'results'"});
  write_text(path, "{\"results\": {}}");
  expect_error<DataError>([&] { read_submission(path); }, {path, "no field 'meta'"});
  write_text(path, "{\"meta\": {}, \"results\": {\"scene-1\": []}}");
  expect_error<DataError>([&] { read_submission(path); }, {"scene-1", "not a 32-hex-digit"});
  write_text(path, "{\"meta\": {}, \"results\": {\"" + kFirst.hex() + "\": [], \"" + kFirst.hex() +
                       "\": []}}");
  expect_error<DataError>([&] { read_submission(path); }, {kFirst.hex(), "appears twice"});
  write_text(path, "{\"meta\": {}, \"results\": {\"" + kFirst.hex() + "\": [");
  expect_error<DataError>([&] { read_submission(path); }, {path});
  expect_error<IoError>([&] { read_submission(dir.file("missing.json")); }, {"missing.json"});
}

TEST(SubmissionJson, AtMost500BoxesPerSample) {
  TempDir dir;
  std::string boxes;
  for (int i = 0; i < 501; ++i) boxes += (i ? ", {" : "{") + valid_box_json() + "}";
  const std::string path = dir.file("many.json");
  write_text(path, "{\"meta\": {}, \"results\": {\"" + kFirst.hex() + "\": [" + boxes + "]}}");
  expect_error<DataError>([&] { read_submission(path); },
                          {path, kFirst.hex(), "501 boxes (at most 500 per sample)"});
  EXPECT_EQ(read_submission(path, 501).results.num_boxes(), 501u);
}

TEST(SubmissionJson, WriterRefusesWhatTheReaderWouldReject) {
  TempDir dir;
  Submission submission;
  DetectionBox b = sample_box(kFirst, 0);
  b.translation[2] = std::numeric_limits<double>::quiet_NaN();
  submission.results.add(kFirst, {b});
  const std::string path = dir.file("nan.json");
  expect_error<DataError>([&] { write_submission(path, submission); },
                          {path, kFirst.hex(), "translation[2] is NaN"});
  EXPECT_FALSE(std::filesystem::exists(path));

  Submission infinite;
  DetectionBox c = sample_box(kFirst, 0);
  c.velocity[0] = std::numeric_limits<double>::infinity();
  infinite.results.add(kFirst, {c});
  expect_error<DataError>([&] { write_submission(path, infinite); },
                          {"velocity", "JSON cannot hold it"});
}

}  // namespace
}  // namespace ptqat::tasks::detection
