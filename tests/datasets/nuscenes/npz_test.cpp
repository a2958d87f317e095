#include "datasets/nuscenes/npz.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <random>
#include <string>

#include "core/error.h"
#include "datasets/nuscenes/lidarseg_file.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {
namespace {

using testing::expect_error;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// One array of each supported dtype, with values that survive only an exact copy.
std::vector<std::pair<std::string, torch::Tensor>> every_dtype() {
  return {
      {"u1", torch::tensor({0, 1, 255}, torch::kUInt8)},
      {"b1", torch::tensor({true, false, false, true}).reshape({2, 2})},
      {"i4", torch::tensor({-2147483647 - 1, 0, 2147483647}, torch::kInt32)},
      {"i8", torch::tensor({-(int64_t{1} << 40), int64_t{5}})},
      {"f4", torch::tensor({0.1f, -3.5f, 1e30f, 0.0f, 7.0f, 8.0f}).reshape({1, 2, 3})},
      {"f8", torch::tensor({0.1, -1e-300}, torch::kFloat64)},
      {"empty", torch::zeros({0, 4}, torch::kFloat32)},
  };
}

TEST(Npz, RoundTripStoredAndDeflated) {
  for (bool compress : {false, true}) {
    SCOPED_TRACE(compress ? "deflated" : "stored");
    testing::TempDir dir;
    const auto arrays = every_dtype();
    write_npz(dir.file("new/folder/all.npz"), arrays, compress);
    const auto read = read_npz(dir.file("new/folder/all.npz"));
    ASSERT_EQ(read.size(), arrays.size());
    for (const auto& [name, tensor] : arrays) {
      ASSERT_EQ(read.count(name), 1u) << name;
      const torch::Tensor back = read.at(name).to_tensor();
      EXPECT_EQ(back.scalar_type(), tensor.scalar_type()) << name;
      EXPECT_TRUE(torch::equal(back, tensor)) << name;
    }
    EXPECT_EQ(read.at("u1").descr, "|u1");
    EXPECT_EQ(read.at("b1").descr, "|b1");
    EXPECT_EQ(read.at("i4").descr, "<i4");
    EXPECT_EQ(read.at("i8").descr, "<i8");
    EXPECT_EQ(read.at("f4").descr, "<f4");
    EXPECT_EQ(read.at("f8").descr, "<f8");
  }
}

TEST(Npz, WritesMembersAsNumpyDoes) {
  testing::TempDir dir;
  write_npz(dir.file("s.npz"), {{"data", torch::zeros({8347}, torch::kUInt8)}}, false);
  const std::string bytes = file_bytes(dir.file("s.npz"));
  ASSERT_GE(bytes.size(), 30u);
  EXPECT_EQ(bytes.substr(0, 4), "PK\x03\x04");
  EXPECT_EQ(bytes.substr(8, 2), std::string(2, '\0'));  // compression method 0: stored
  // DOS time 00:00:00 = 0x0000, DOS date 1980-01-01 = (0 << 9) | (1 << 5) | 1 = 0x0021, as in
  // the numpy-written fixture.
  EXPECT_EQ(bytes.substr(10, 4), std::string("\x00\x00\x21\x00", 4));
  // The 60-character dict + '\n' after the 10-byte prefix is padded with 57 spaces to 128 bytes,
  // so the header length field is 118 = 0x76.
  const std::string header = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                             "{'descr': '|u1', 'fortran_order': False, 'shape': (8347,), }" +
                             std::string(57, ' ') + "\n";
  EXPECT_NE(bytes.find(header + std::string(8347, '\0')), std::string::npos);

  write_npz(dir.file("d.npz"), {{"data", torch::zeros({8347}, torch::kUInt8)}}, true);
  const std::string deflated = file_bytes(dir.file("d.npz"));
  EXPECT_EQ(deflated.substr(8, 2), std::string("\x08\x00", 2));  // method 8: deflate
  EXPECT_LT(deflated.size(), 1000u);                             // 8347 zeros compress well
}

TEST(Npz, SameInputGivesSameBytesInAnyTimeZone) {
  testing::TempDir dir;
  const std::vector<std::pair<std::string, torch::Tensor>> arrays = {
      {"a", torch::arange(100, torch::kFloat32)}, {"b", torch::ones({3, 3}, torch::kUInt8)}};
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  write_npz(dir.file("one.npz"), arrays, true);
  setenv("TZ", "JST-9", 1);  // POSIX zone strings: no tzdata needed
  tzset();
  write_npz(dir.file("two.npz"), arrays, true);
  setenv("TZ", "PST8PDT", 1);
  tzset();
  write_npz(dir.file("three.npz"), arrays, true);
  if (old)
    setenv("TZ", saved.c_str(), 1);
  else
    unsetenv("TZ");
  tzset();
  const std::string one = file_bytes(dir.file("one.npz"));
  EXPECT_EQ(one, file_bytes(dir.file("two.npz")));
  EXPECT_EQ(one, file_bytes(dir.file("three.npz")));
}

TEST(Npz, MissingFileIsIoError) {
  testing::TempDir dir;
  expect_error<IoError>([&] { read_npz(dir.file("absent.npz")); }, {dir.file("absent.npz")});
}

TEST(Npz, RandomBytesAreDataErrorNamingFile) {
  testing::TempDir dir;
  std::mt19937 random(7);
  std::string junk(1000, '\0');
  for (char& c : junk) c = static_cast<char>(random() & 0xff);
  testing::write_text(dir.file("junk.npz"), junk);
  expect_error<DataError>([&] { read_npz(dir.file("junk.npz")); },
                          {dir.file("junk.npz"), "expected a numpy .npz (zip archive)"});
}

TEST(Npz, TruncatedArchiveIsDataErrorNamingFile) {
  testing::TempDir dir;
  write_npz(dir.file("full.npz"), {{"x", torch::arange(1000, torch::kFloat64)}}, true);
  const std::string full = file_bytes(dir.file("full.npz"));
  testing::write_text(dir.file("cut.npz"), full.substr(0, full.size() / 2));
  expect_error<DataError>([&] { read_npz(dir.file("cut.npz")); }, {dir.file("cut.npz")});
}

TEST(Npz, EmptyArchiveIsDataError) {
  testing::TempDir dir;
  // The 22-byte end-of-central-directory record of a zip with no entries.
  testing::write_text(dir.file("empty.npz"), std::string("PK\x05\x06", 4) + std::string(18, '\0'));
  expect_error<DataError>([&] { read_npz(dir.file("empty.npz")); },
                          {dir.file("empty.npz"), "at least one .npy member"});
}

TEST(Npz, CorruptMemberDataIsDataErrorNamingMember) {
  testing::TempDir dir;
  write_npz(dir.file("ok.npz"), {{"data", torch::arange(4000, torch::kInt32)}}, true);
  std::string bytes = file_bytes(dir.file("ok.npz"));
  // Local header: 30 fixed bytes, then the name ("data.npy", 8 bytes) and extra field; flip
  // bytes in the middle of the deflate stream that follows.
  const size_t extra = static_cast<uint8_t>(bytes[28]) | static_cast<uint8_t>(bytes[29]) << 8;
  const size_t start = 30 + 8 + extra;
  for (size_t i = start + 40; i < start + 60; ++i) bytes[i] = static_cast<char>(~bytes[i]);
  testing::write_text(dir.file("bad.npz"), bytes);
  expect_error<DataError>([&] { read_npz(dir.file("bad.npz")); },
                          {dir.file("bad.npz") + ":data.npy"});
}

TEST(Npz, ReadsNumpyWrittenPanopticFileWithZip64Extras) {
  const std::string dir = std::string(PTQAT_TEST_DATA_DIR) + "/npz/";
  const std::string token = "204d065aad962a2dbf0051036d2ffee6";
  const std::string npz = dir + token + "_panoptic.npz";
  const std::string pcd =
      dir + "n008-2018-08-01-15-16-36-0400__LIDAR_TOP__1533151604547590.pcd.bin";

  // The fixture really is what the test claims: the local header of "data.npy" (name length 8)
  // carries a 20-byte extra field starting with the zip64 id 0x0001.
  const std::string raw = file_bytes(npz);
  ASSERT_GE(raw.size(), 40u);
  EXPECT_EQ(raw.substr(26, 4), std::string("\x08\x00\x14\x00", 4));
  EXPECT_EQ(raw.substr(30, 8), "data.npy");
  EXPECT_EQ(raw.substr(38, 2), std::string("\x01\x00", 2));

  const auto arrays = read_npz(npz);
  ASSERT_EQ(arrays.size(), 1u);
  ASSERT_EQ(arrays.count("data"), 1u);
  const NpyArray& data = arrays.at("data");
  EXPECT_EQ(data.descr, "<u2");
  EXPECT_FALSE(data.fortran_order);
  ASSERT_EQ(data.shape.size(), 1u);
  // 166940 bytes / 20 bytes per point = 8347 points in the matching keyframe.
  const auto points = static_cast<int64_t>(std::filesystem::file_size(pcd) / 20);
  EXPECT_EQ(points, 8347);
  EXPECT_EQ(data.shape[0], points);

  const torch::Tensor panoptic = data.to_tensor();
  // Spot values decoded independently with python's zipfile + struct.
  EXPECT_EQ(panoptic[0].item<int32_t>(), 25000);
  EXPECT_EQ(panoptic[points - 1].item<int32_t>(), 11001);
  EXPECT_EQ(panoptic.max().item<int32_t>(), 30000);
  const torch::Tensor lidarseg = read_lidarseg_labels(dir + token + "_lidarseg.bin", points);
  EXPECT_TRUE(torch::equal(torch::div(panoptic, 1000, "floor").to(torch::kUInt8), lidarseg));
}

}  // namespace
}  // namespace ptqat::datasets
