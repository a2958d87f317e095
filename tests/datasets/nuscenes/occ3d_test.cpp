#include "datasets/nuscenes/occ3d.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "datasets/nuscenes/npz.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {
namespace {

/// A grid whose voxel (i, j, k) holds (i + j + k) % 18: every class 0..17 appears.
Occ3dLabels pattern_labels() {
  const auto i = torch::arange(200, torch::kInt64).view({200, 1, 1});
  const auto j = torch::arange(200, torch::kInt64).view({1, 200, 1});
  const auto k = torch::arange(16, torch::kInt64).view({1, 1, 16});
  Occ3dLabels labels;
  labels.semantics = ((i + j + k) % 18).to(torch::kUInt8);
  labels.mask_lidar = ((i + k) % 2 == 0).expand({200, 200, 16}).contiguous();
  labels.mask_camera = (j < 100).expand({200, 200, 16}).contiguous();
  return labels;
}

TEST(Occ3d, RoundTripStoredAndDeflated) {
  const Occ3dLabels labels = pattern_labels();
  for (bool compress : {false, true}) {
    testing::TempDir dir;
    const std::string path = dir.file("gts/scene-0061/abc/labels.npz");
    write_occ3d_labels(path, labels, compress);
    const Occ3dLabels read = read_occ3d_labels(path);
    EXPECT_EQ(read.semantics.scalar_type(), torch::kUInt8);
    EXPECT_EQ(read.mask_lidar.scalar_type(), torch::kBool);
    EXPECT_EQ(read.mask_camera.scalar_type(), torch::kBool);
    EXPECT_TRUE(torch::equal(read.semantics, labels.semantics));
    EXPECT_TRUE(torch::equal(read.mask_lidar, labels.mask_lidar));
    EXPECT_TRUE(torch::equal(read.mask_camera, labels.mask_camera));
    // Voxel (3, 4, 5) holds (3 + 4 + 5) % 18 = 12; (10, 0, 8) holds 18 % 18 = 0.
    EXPECT_EQ(read.semantics[3][4][5].item<uint8_t>(), 12);
    EXPECT_EQ(read.semantics[10][0][8].item<uint8_t>(), 0);
    // Half the columns (j < 100) are camera-visible: 200 * 100 * 16 = 320000 voxels.
    EXPECT_EQ(read.mask_camera.sum().item<int64_t>(), 320000);
  }
}

TEST(Occ3d, MasksAreWrittenAsUint8LikeRealFiles) {
  testing::TempDir dir;
  write_occ3d_labels(dir.file("labels.npz"), pattern_labels(), true);
  const auto arrays = read_npz(dir.file("labels.npz"));
  EXPECT_EQ(arrays.at("semantics").descr, "|u1");
  EXPECT_EQ(arrays.at("mask_lidar").descr, "|u1");
  EXPECT_EQ(arrays.at("mask_camera").descr, "|u1");
}

TEST(Occ3d, AcceptsUint8AndBoolMasks) {
  testing::TempDir dir;
  const torch::Tensor semantics = torch::full({200, 200, 16}, kOccFreeClass, torch::kUInt8);
  torch::Tensor lidar = torch::zeros({200, 200, 16}, torch::kUInt8);
  lidar[1][2][3] = 1;
  lidar[4][5][6] = 7;  // nonzero counts as observed, as numpy's .astype(bool)
  const torch::Tensor camera = torch::ones({200, 200, 16}, torch::kBool);
  write_npz(dir.file("labels.npz"),
            {{"semantics", semantics}, {"mask_lidar", lidar}, {"mask_camera", camera}}, true);
  const Occ3dLabels read = read_occ3d_labels(dir.file("labels.npz"));
  EXPECT_EQ(read.mask_lidar.scalar_type(), torch::kBool);
  EXPECT_EQ(read.mask_lidar.sum().item<int64_t>(), 2);
  EXPECT_TRUE(read.mask_lidar[1][2][3].item<bool>());
  EXPECT_TRUE(read.mask_lidar[4][5][6].item<bool>());
  EXPECT_EQ(read.mask_camera.sum().item<int64_t>(), 200 * 200 * 16);
}

TEST(Occ3d, WrongShapeIsDataErrorNamingFileAndKey) {
  testing::TempDir dir;
  const std::string path = dir.file("labels.npz");
  write_npz(path,
            {{"semantics", torch::zeros({200, 200, 15}, torch::kUInt8)},
             {"mask_lidar", torch::zeros({200, 200, 16}, torch::kUInt8)},
             {"mask_camera", torch::zeros({200, 200, 16}, torch::kUInt8)}},
            false);
  testing::expect_error<DataError>(
      [&] { read_occ3d_labels(path); },
      {path + ":semantics", "expected shape (200, 200, 16), got (200, 200, 15)"});
}

TEST(Occ3d, ClassIdAboveFreeIsDataError) {
  testing::TempDir dir;
  const std::string path = dir.file("labels.npz");
  torch::Tensor semantics = torch::zeros({200, 200, 16}, torch::kUInt8);
  semantics[3][4][5] = 18;
  write_npz(path,
            {{"semantics", semantics},
             {"mask_lidar", torch::zeros({200, 200, 16}, torch::kUInt8)},
             {"mask_camera", torch::zeros({200, 200, 16}, torch::kUInt8)}},
            true);
  testing::expect_error<DataError>(
      [&] { read_occ3d_labels(path); },
      {path + ":semantics", "expected class ids 0..17, got 18 at voxel (3, 4, 5)"});
}

TEST(Occ3d, MissingKeyOrWrongDtypeIsDataError) {
  testing::TempDir dir;
  const std::string path = dir.file("labels.npz");
  write_npz(path,
            {{"semantics", torch::zeros({200, 200, 16}, torch::kUInt8)},
             {"mask_lidar", torch::zeros({200, 200, 16}, torch::kUInt8)}},
            true);
  testing::expect_error<DataError>(
      [&] { read_occ3d_labels(path); },
      {path, "expected key 'mask_camera'", "got keys [mask_lidar, semantics]"});
  write_npz(path,
            {{"semantics", torch::zeros({200, 200, 16}, torch::kInt32)},
             {"mask_lidar", torch::zeros({200, 200, 16}, torch::kUInt8)},
             {"mask_camera", torch::zeros({200, 200, 16}, torch::kUInt8)}},
            true);
  testing::expect_error<DataError>([&] { read_occ3d_labels(path); },
                                   {path + ":semantics", "expected dtype '|u1', got '<i4'"});
}

}  // namespace
}  // namespace ptqat::datasets
