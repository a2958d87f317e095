#include "datasets/nuscenes/point_cloud_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {
namespace {

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(PointCloudFile, ReadsLittleEndianFloatRows) {
  testing::TempDir dir;
  // One point, hand-encoded IEEE-754 little-endian: 1.0 = 0x3F800000, 2.0 = 0x40000000,
  // -0.5 = 0xBF000000, 100.0 = 0x42C80000, 7.0 = 0x40E00000.
  const std::string bytes(
      "\x00\x00\x80\x3F"
      "\x00\x00\x00\x40"
      "\x00\x00\x00\xBF"
      "\x00\x00\xC8\x42"
      "\x00\x00\xE0\x40",
      20);
  testing::write_text(dir.file("one.pcd.bin"), bytes);
  const torch::Tensor points = read_lidar_points(dir.file("one.pcd.bin"));
  ASSERT_EQ(points.scalar_type(), torch::kFloat32);
  ASSERT_EQ(points.sizes(), torch::IntArrayRef({1, 5}));
  EXPECT_FLOAT_EQ(points[0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(points[0][1].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(points[0][2].item<float>(), -0.5f);
  EXPECT_FLOAT_EQ(points[0][3].item<float>(), 100.0f);
  EXPECT_FLOAT_EQ(points[0][4].item<float>(), 7.0f);
}

TEST(PointCloudFile, RoundTripKeepsValuesAndWritesRawRows) {
  testing::TempDir dir;
  const torch::Tensor points = torch::tensor({1.5f, -2.0f, 0.25f, 12.0f, 31.0f,  //
                                              -40.0f, 3.0f, -1.0f, 0.0f, 0.0f,   //
                                              0.5f, 0.5f, 5.0f, 255.0f, 16.0f})
                                   .reshape({3, 5});
  const std::string path = dir.file("sub/dir/points.pcd.bin");  // parent folders are created
  write_lidar_points(path, points);
  EXPECT_EQ(std::filesystem::file_size(path), 3u * 5u * 4u);
  // 1.5f = 0x3FC00000, stored little-endian.
  EXPECT_EQ(file_bytes(path).substr(0, 4), std::string("\x00\x00\xC0\x3F", 4));
  const torch::Tensor read = read_lidar_points(path);
  EXPECT_TRUE(torch::equal(read, points));
}

TEST(PointCloudFile, WritesNonContiguousTensors) {
  testing::TempDir dir;
  // The transpose of a [5, 2] tensor is a non-contiguous [2, 5] view.
  const torch::Tensor points = torch::arange(10, torch::kFloat32).reshape({5, 2}).t();
  write_lidar_points(dir.file("t.pcd.bin"), points);
  const torch::Tensor read = read_lidar_points(dir.file("t.pcd.bin"));
  // Row 0 of the transpose is 0, 2, 4, 6, 8.
  EXPECT_TRUE(torch::equal(read[0], torch::tensor({0.0f, 2.0f, 4.0f, 6.0f, 8.0f})));
  EXPECT_TRUE(torch::equal(read, points));
}

TEST(PointCloudFile, AnEmptyFileOrANonFiniteValueIsADataErrorNamingTheFile) {
  // An empty file is no sensor sweep; a NaN would reach the loss far from its file.
  testing::TempDir dir;
  testing::write_text(dir.file("empty.pcd.bin"), "");
  EXPECT_THROW(read_lidar_points(dir.file("empty.pcd.bin")), DataError);
  torch::Tensor points = torch::zeros({3, 5});
  points[2][1] = std::numeric_limits<float>::quiet_NaN();
  write_lidar_points(dir.file("nan.pcd.bin"), points);
  try {
    read_lidar_points(dir.file("nan.pcd.bin"));
    FAIL() << "expected DataError";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what())
                  .find(dir.file("nan.pcd.bin") + ": point 2 has a "
                                                  "non-finite value (nan) in column 1"),
              std::string::npos)
        << error.what();
  }
  std::vector<float> buffer;
  EXPECT_THROW(read_lidar_points_into(dir.file("nan.pcd.bin"), buffer), DataError);
}

TEST(PointCloudFile, TruncatedFileIsDataErrorNamingFile) {
  testing::TempDir dir;
  const std::string path = dir.file("cut.pcd.bin");
  testing::write_text(path, std::string(47, '\0'));  // 2 rows of 20 bytes and 7 stray bytes
  try {
    read_lidar_points(path);
    FAIL() << "expected DataError";
  } catch (const DataError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("expected a positive multiple of 20 bytes (N >= 1 points x 5 "
                           "float32), got 47 bytes"),
              std::string::npos)
        << message;
  }
}

TEST(PointCloudFile, MissingFileIsIoErrorNamingFile) {
  testing::TempDir dir;
  const std::string path = dir.file("absent.pcd.bin");
  try {
    read_lidar_points(path);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

TEST(PointCloudFile, DirectoryIsIoError) {
  testing::TempDir dir;
  EXPECT_THROW(read_lidar_points(dir.path().string()), IoError);
}

TEST(PointCloudFile, WrongTensorShapeIsABug) {
  testing::TempDir dir;
  EXPECT_THROW(write_lidar_points(dir.file("x.pcd.bin"), torch::zeros({3, 4})), InternalError);
  EXPECT_THROW(write_lidar_points(dir.file("x.pcd.bin"), torch::zeros({3, 5}, torch::kFloat64)),
               InternalError);
}

}  // namespace
}  // namespace ptqat::datasets
