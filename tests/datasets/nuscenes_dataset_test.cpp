#include "datasets/nuscenes_dataset.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "tests/support/nuscenes_fixture.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {

using testing::NuScenesFixture;
using testing::TempDir;

namespace {

DataConfig config_for(const TempDir& dir, bool lidarseg, bool occupancy) {
  DataConfig config;
  config.dataroot = dir.path().string();
  config.nsweeps = 3;
  config.lidarseg = lidarseg;
  config.occupancy = occupancy;
  return config;
}

}  // namespace

TEST(NuScenesDataset, LoadsPointsBoxesAndLabelsOfTheSplit) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0061", "scene-0103"}, 3, 2);
  const Token sample = fixture.tables().sample[1].token;
  const Token keyframe = fixture.keyframe_of(sample);
  fixture.set_points(keyframe, torch::zeros({4, 5}));
  // Fine labels (category.json index): noise, vehicle.car, flat.sidewalk, static.other.
  fixture.set_lidarseg(keyframe, torch::tensor({0, 17, 26, 29}, torch::kUInt8));
  fixture.write(dir.path().string());

  const auto nusc = std::make_shared<NuScenes>(dir.path().string(), "v1.0-mini");
  const NuScenesDataset dataset(nusc, "mini_train", config_for(dir, true, true));
  ASSERT_EQ(dataset.size(), 3);
  const Sample loaded = dataset.get(1);
  EXPECT_EQ(loaded.token, sample.hex());
  EXPECT_EQ(loaded.scene_name, "scene-0061");
  EXPECT_EQ(loaded.keyframe_points, 4);
  // Keyframe 4 points + 2 sweeps + the previous keyframe, 64 random points each (within 1 m of
  // the sensor some may be dropped).
  EXPECT_GT(loaded.points.size(0), 4 + 2 * 50);
  EXPECT_EQ(loaded.boxes.size(), 2);
  // 32 -> 16: noise -> 0, car -> 4, sidewalk -> 13, static.other -> 0.
  EXPECT_TRUE(torch::equal(loaded.point_labels, torch::tensor({0, 4, 13, 0}, torch::kInt64)));
  ASSERT_TRUE(loaded.occ_semantics.defined());
  EXPECT_EQ(loaded.occ_semantics.sizes(), (std::vector<int64_t>{200, 200, 16}));
  EXPECT_EQ(loaded.occ_semantics[100][100][0].item<uint8_t>(), 11);
  EXPECT_EQ(loaded.occ_mask_camera.scalar_type(), torch::kBool);
}

TEST(NuScenesDataset, LidarsegLabelCountMustMatchThePointCount) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0061"}, 1, 0);
  const Token keyframe = fixture.keyframe_of(fixture.tables().sample[0].token);
  fixture.set_points(keyframe, torch::zeros({4, 5}));
  fixture.set_lidarseg(keyframe, torch::zeros({3}, torch::kUInt8));
  fixture.write(dir.path().string());
  const auto nusc = std::make_shared<NuScenes>(dir.path().string(), "v1.0-mini");
  const NuScenesDataset dataset(nusc, "mini_train", config_for(dir, true, false));
  try {
    dataset.get(0);
    FAIL() << "no error";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find(keyframe.hex() + "_lidarseg.bin: expected 4 labels"),
              std::string::npos)
        << error.what();
  }
}

TEST(NuScenesDataset, MissingOccupancyAndMissingLidarsegAreDataErrors) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0061"}, 1, 0);
  fixture.write_occupancy = false;
  fixture.write_lidarseg = false;
  fixture.write(dir.path().string());
  const auto nusc = std::make_shared<NuScenes>(dir.path().string(), "v1.0-mini");
  EXPECT_THROW(NuScenesDataset(nusc, "mini_train", config_for(dir, true, false)), DataError);
  const NuScenesDataset dataset(nusc, "mini_train", config_for(dir, false, true));
  EXPECT_THROW(dataset.get(0), DataError);
  const NuScenesDataset plain(nusc, "mini_train", config_for(dir, false, false));
  EXPECT_FALSE(plain.get(0).point_labels.defined());
}

TEST(NuScenesDataset, TruncatedPointFileNamesTheFile) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0061"}, 1, 0);
  fixture.write(dir.path().string());
  const std::string file = dir.path().string() + "/" + fixture.tables().sample_data[0].filename;
  std::filesystem::resize_file(file, 47);
  const auto nusc = std::make_shared<NuScenes>(dir.path().string(), "v1.0-mini");
  const NuScenesDataset dataset(nusc, "mini_train", config_for(dir, false, false));
  try {
    dataset.get(0);
    FAIL() << "no error";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find(file), std::string::npos) << error.what();
  }
}

}  // namespace ptqat::datasets
