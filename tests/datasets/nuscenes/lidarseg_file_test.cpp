#include "datasets/nuscenes/lidarseg_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {
namespace {

TEST(LidarsegFile, ReadsOneByteLabelPerPoint) {
  testing::TempDir dir;
  testing::write_text(dir.file("a_lidarseg.bin"), std::string("\x00\x1F\x11\x18", 4));
  const torch::Tensor labels = read_lidarseg_labels(dir.file("a_lidarseg.bin"), 4);
  ASSERT_EQ(labels.scalar_type(), torch::kUInt8);
  ASSERT_EQ(labels.sizes(), torch::IntArrayRef({4}));
  // 0x1F = 31 (vehicle.ego), 0x11 = 17 (vehicle.car), 0x18 = 24 (flat.driveable_surface).
  EXPECT_TRUE(torch::equal(labels, torch::tensor({0, 31, 17, 24}, torch::kUInt8)));
}

TEST(LidarsegFile, ALabelAboveTheCategoryIndicesIsADataErrorNamingTheFileAndPoint) {
  testing::TempDir dir;
  testing::write_text(dir.file("c_lidarseg.bin"), std::string("\x00\x1F\xC8", 3));  // 200
  try {
    read_lidarseg_labels(dir.file("c_lidarseg.bin"), 3);
    FAIL() << "expected DataError";
  } catch (const DataError& error) {
    EXPECT_NE(
        std::string(error.what())
            .find(dir.file("c_lidarseg.bin") + ": label 200 of point 2: expected a category index "
                                               "0..31"),
        std::string::npos)
        << error.what();
  }
}

TEST(LidarsegFile, RoundTrip) {
  testing::TempDir dir;
  const torch::Tensor labels = torch::tensor({9, 0, 31, 31, 24, 1}, torch::kUInt8);
  const std::string path = dir.file("lidarseg/v1.0-mini/t_lidarseg.bin");
  write_lidarseg_labels(path, labels);
  EXPECT_EQ(std::filesystem::file_size(path), 6u);
  EXPECT_TRUE(torch::equal(read_lidarseg_labels(path, 6), labels));
}

TEST(LidarsegFile, NegativeExpectedCountSkipsTheCheck) {
  testing::TempDir dir;
  testing::write_text(dir.file("b_lidarseg.bin"), std::string(3, '\x05'));
  EXPECT_EQ(read_lidarseg_labels(dir.file("b_lidarseg.bin"), -1).size(0), 3);
}

TEST(LidarsegFile, CountMismatchIsDataErrorNamingFile) {
  testing::TempDir dir;
  const std::string path = dir.file("c_lidarseg.bin");
  testing::write_text(path, std::string(3, '\x05'));
  try {
    read_lidarseg_labels(path, 4);
    FAIL() << "expected DataError";
  } catch (const DataError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path + ": expected 4 labels (one per point of the keyframe .pcd.bin), "
                                  "got 3"),
              std::string::npos)
        << message;
  }
}

TEST(LidarsegFile, MissingFileIsIoErrorNamingFile) {
  testing::TempDir dir;
  const std::string path = dir.file("absent_lidarseg.bin");
  try {
    read_lidarseg_labels(path, -1);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace ptqat::datasets
