#include "datasets/synth/synth_dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "datasets/geometry.h"
#include "datasets/nuscenes/lidar_sweeps.h"
#include "datasets/nuscenes/point_cloud_file.h"
#include "datasets/nuscenes_dataset.h"
#include "datasets/synth/synth_world.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {

using testing::TempDir;

namespace {

constexpr uint64_t kSeed = 11;

SynthOptions small(uint64_t seed = kSeed) {
  SynthOptions options;
  options.preset = "tiny";
  options.scenes = 2;
  options.samples_per_scene = 3;
  options.seed = seed;
  return options;
}

/// Every file under `root`, by relative path, with its bytes.
std::map<std::string, std::string> read_tree(const std::filesystem::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    files[std::filesystem::relative(entry.path(), root).string()] = bytes.str();
  }
  return files;
}

/// A generated dataset shared by the read-back tests (generating takes a few seconds).
struct Generated {
  TempDir dir;
  SynthSummary summary;
  std::shared_ptr<NuScenes> nusc;

  Generated() {
    summary = write_synth_dataset(small(), dir.path().string());
    nusc = std::make_shared<NuScenes>(dir.path().string(), "v1.0-synth");
  }
};

const Generated& generated() {
  static const Generated instance;
  return instance;
}

}  // namespace

TEST(SynthDataset, TheReaderLoadsItLikeNuScenes) {
  const Generated& g = generated();
  const Tables& t = g.nusc->tables();
  EXPECT_EQ(t.scene.size(), 2u);
  EXPECT_EQ(t.sample.size(), 6u);
  EXPECT_EQ(t.sample_data.size(), 2u * (2 * 10 + 1));  // 20 Hz sweeps between 2 Hz keyframes
  EXPECT_EQ(t.lidarseg.size(), 6u);
  EXPECT_GT(t.sample_annotation.size(), 20u);
  EXPECT_EQ(static_cast<int64_t>(t.sample_annotation.size()), g.summary.annotations);
  EXPECT_FALSE(t.map.empty());
  for (const auto& map : t.map) {
    EXPECT_TRUE(std::filesystem::exists(g.nusc->path_of(map.filename))) << map.filename;
  }
  // Custom splits under non-official names, read from v1.0-synth/splits.json.
  EXPECT_EQ(g.nusc->split_scene_names("synth_train").size(), 1u);
  EXPECT_EQ(g.nusc->split_scene_names("synth_val").size(), 1u);
  // Keyframes 0.5 s apart, sweeps 0.05 s apart, all linked.
  for (const auto& data : t.sample_data) {
    if (data.next == kNoRow) continue;
    EXPECT_EQ(t.sample_data[data.next].timestamp - data.timestamp, 50'000);
  }
}

TEST(SynthDataset, NumLidarPtsCountsTheKeyframePointsInsideEachBox) {
  const Generated& g = generated();
  const Tables& t = g.nusc->tables();
  int64_t boxes_with_points = 0;
  for (size_t s = 0; s < t.sample.size(); ++s) {
    const Row keyframe = t.sample[s].lidar_top;
    const torch::Tensor points =
        read_lidar_points(g.nusc->path_of(t.sample_data[keyframe].filename));
    const RigidTransform global_to_lidar =
        (g.nusc->ego_to_global(keyframe) * g.nusc->sensor_to_ego(keyframe)).inverse();
    for (const Row a : t.sample[s].annotations) {
      const auto& ann = t.sample_annotation[a];
      const Eigen::Vector3d centre = global_to_lidar.apply(
          Eigen::Vector3d(ann.translation[0], ann.translation[1], ann.translation[2]));
      const Eigen::Vector3d wlh(ann.size[0], ann.size[1], ann.size[2]);
      const auto inside =
          points_in_box(points, centre, wlh, global_to_lidar.rotation * to_eigen(ann.rotation));
      EXPECT_EQ(inside.sum().item<int64_t>(), ann.num_lidar_pts) << ann.token.hex();
      boxes_with_points += ann.num_lidar_pts > 0;
    }
  }
  EXPECT_GT(boxes_with_points, 10);
}

TEST(SynthDataset, LidarsegLabelsMatchThePointsAndOccupancyLoads) {
  const Generated& g = generated();
  DataConfig config;
  config.dataroot = g.dir.path().string();
  config.version = "v1.0-synth";
  config.lidarseg = true;
  config.occupancy = true;
  const NuScenesDataset dataset(g.nusc, "synth_train", config);
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const Sample sample = dataset.get(i);  // throws if a label count differs from the points
    EXPECT_EQ(sample.point_labels.size(0), sample.keyframe_points);
    // Road, sidewalk or terrain under most points, and some object points.
    EXPECT_GT((sample.point_labels == 11).sum().item<int64_t>(), 1000);
    EXPECT_GT(
        (sample.point_labels >= 1).logical_and(sample.point_labels <= 10).sum().item<int64_t>(),
        100);
    EXPECT_GT((sample.occ_semantics < 17).sum().item<int64_t>(), 1000);
    EXPECT_GT(sample.occ_mask_lidar.sum().item<int64_t>(), 10000);
  }
}

TEST(SynthDataset, SweepsOfAStaticPoleLandOnThePoleInTheKeyframeFrame) {
  const Generated& g = generated();
  const Tables& t = g.nusc->tables();
  const Row sample = 2;  // the last keyframe of scene 0: 10 sweeps behind it
  const SynthScene scene = make_synth_scene(0, kSeed, 1.0);
  const AggregatedSweeps sweeps = aggregate_sweeps(*g.nusc, sample, 10);
  ASSERT_EQ(sweeps.sweeps, 10);
  const Row keyframe = t.sample[sample].lidar_top;
  const RigidTransform global_to_lidar =
      (g.nusc->ego_to_global(keyframe) * g.nusc->sensor_to_ego(keyframe)).inverse();
  // Points of older sweeps that hit a structure must land on it: inside the structure's box
  // grown by 5 cm. The ego moves ~0.4 m between sweeps, so a wrong transform would miss.
  int64_t on_structures = 0;
  const torch::Tensor older = sweeps.points.slice(0, sweeps.keyframe_points);
  torch::Tensor hit = torch::zeros({older.size(0)}, torch::kBool);
  for (const SynthStructure& structure : scene.structures) {
    const Eigen::Vector3d centre = global_to_lidar.apply(structure.box.center);
    const Eigen::Quaterniond rotation =
        global_to_lidar.rotation *
        Eigen::Quaterniond(Eigen::AngleAxisd(structure.box.yaw, Eigen::Vector3d::UnitZ()));
    hit |=
        points_in_box(older, centre, structure.box.wlh + Eigen::Vector3d::Constant(0.1), rotation);
  }
  on_structures = hit.sum().item<int64_t>();
  EXPECT_GT(on_structures, 1000);
  // Every older sweep contributes points on the structures.
  const auto lags = older.select(1, 4).index({hit});
  for (int w = 1; w < 10; ++w) {
    EXPECT_GT(((lags - 0.05f * w).abs() < 1e-3f).sum().item<int64_t>(), 10) << "sweep " << w;
  }
}

TEST(SynthDataset, VelocitiesFollowTheTrueTracks) {
  const Generated& g = generated();
  const Tables& t = g.nusc->tables();
  int64_t checked = 0;
  for (size_t s = 0; s < 2; ++s) {
    const SynthScene scene = make_synth_scene(static_cast<int64_t>(s), kSeed, 1.0);
    for (size_t a = 0; a < t.sample_annotation.size(); ++a) {
      const auto& ann = t.sample_annotation[a];
      if (t.sample[ann.sample].scene != static_cast<Row>(s)) continue;
      const Eigen::Vector3d velocity = g.nusc->box_velocity(static_cast<Row>(a));
      if (std::isnan(velocity.x())) continue;
      const double time = 1e-6 * static_cast<double>(t.sample[ann.sample].timestamp -
                                                     t.sample[t.scene[s].first_sample].timestamp);
      const Eigen::Vector3d centre(ann.translation[0], ann.translation[1], ann.translation[2]);
      for (const SynthObject& object : scene.objects) {
        if (!object.alive_at(time) || (object.box_at(time).center - centre).norm() > 1e-6) continue;
        EXPECT_NEAR(velocity.x(), object.velocity.x(), 1e-3);
        EXPECT_NEAR(velocity.y(), object.velocity.y(), 1e-3);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 20);
}

TEST(SynthDataset, OneSeedIsByteIdenticalAndSeedsDiffer) {
  TempDir a, b, c;
  write_synth_dataset(small(5), a.path().string());
  write_synth_dataset(small(5), b.path().string());
  write_synth_dataset(small(6), c.path().string());
  const auto first = read_tree(a.path()), second = read_tree(b.path()), other = read_tree(c.path());
  EXPECT_EQ(first.size(), second.size());
  EXPECT_TRUE(first == second);
  EXPECT_NE(first.at("v1.0-synth/sample_annotation.json"),
            other.at("v1.0-synth/sample_annotation.json"));
}

TEST(SynthDataset, TablesOnlySkipsSensorFiles) {
  TempDir dir;
  SynthOptions options = small();
  options.tables_only = true;
  write_synth_dataset(options, dir.path().string());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "samples"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "gts"));
  const NuScenes nusc(dir.path().string(), "v1.0-synth");
  EXPECT_EQ(nusc.tables().sample.size(), 6u);
  EXPECT_FALSE(nusc.tables().has_lidarseg);
}

TEST(SynthDataset, SplitsHoldOutSelectionScenesBetweenTrainingAndReportedOnes) {
  const auto splits_of = [](SynthOptions options) {
    TempDir dir;
    options.tables_only = true;
    options.samples_per_scene = 2;
    write_synth_dataset(options, dir.path().string());
    const NuScenes nusc(dir.path().string(), "v1.0-synth");
    std::map<std::string, std::vector<std::string>> splits;
    for (const char* split : {"synth_train", "synth_select", "synth_val"}) {
      try {
        splits[split] = nusc.split_scene_names(split);
      } catch (const DataError&) {  // not written
      }
    }
    return splits;
  };
  SynthOptions demo;
  demo.preset = "demo";  // the preset's scene and split counts
  auto splits = splits_of(demo);
  ASSERT_EQ(splits.size(), 3u);
  EXPECT_EQ(splits["synth_train"].size(), 8u);
  EXPECT_EQ(splits["synth_select"].size(), 2u);
  EXPECT_EQ(splits["synth_val"].size(), 6u);
  std::set<std::string> scenes;
  for (const auto& [name, names] : splits) scenes.insert(names.begin(), names.end());
  EXPECT_EQ(scenes.size(), 16u);  // disjoint

  SynthOptions counted = small();
  counted.scenes = 20;  // ~15 % reported, ~5 % held out
  splits = splits_of(counted);
  EXPECT_EQ(splits["synth_train"].size(), 16u);
  EXPECT_EQ(splits["synth_select"].size(), 1u);
  EXPECT_EQ(splits["synth_val"].size(), 3u);

  // The tiny preset keeps its two training scenes and writes no selection split.
  SynthOptions tiny;
  splits = splits_of(tiny);
  EXPECT_EQ(splits.count("synth_select"), 0u);
  EXPECT_EQ(splits["synth_train"].size(), 2u);
  EXPECT_EQ(splits["synth_val"].size(), 1u);
}

TEST(SynthDataset, BadOptionsAreOneLineErrors) {
  TempDir dir;
  SynthOptions zero = small();
  zero.scenes = 0;
  EXPECT_THROW(write_synth_dataset(zero, dir.path().string()), ConfigError);
  SynthOptions preset = small();
  preset.preset = "huge";
  EXPECT_THROW(write_synth_dataset(preset, dir.path().string()), ConfigError);
  SynthOptions no_training = small();
  no_training.scenes = 4;
  no_training.val_scenes = 2;
  no_training.select_scenes = 2;
  try {
    write_synth_dataset(no_training, dir.path().string());
    ADD_FAILURE() << "no scene left for synth_train was accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("--val-scenes 2 and --select-scenes 2"),
              std::string::npos)
        << error.what();
  }
  testing::write_text(dir.path() / "file", "x");
  EXPECT_THROW(write_synth_dataset(small(), (dir.path() / "file" / "out").string()), IoError);
}

}  // namespace ptqat::datasets
