// The GT database and GT-paste on the synthetic dataset: objects are cut out with their points
// and lidarseg labels, and pasted where they collide with nothing, with their points and labels.

#include "datasets/gt_paste.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "datasets/synth/synth_dataset.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {
namespace {

using ptqat::testing::expect_error;

struct Synthetic {
  ptqat::testing::TempDir dir;
  std::shared_ptr<const NuScenes> nusc;
  DataConfig config;
  Synthetic() {
    SynthOptions options;
    options.preset = "tiny";
    options.scenes = 3;
    options.samples_per_scene = 3;
    write_synth_dataset(options, dir.path().string());
    nusc = std::make_shared<const NuScenes>(dir.path().string(), "v1.0-synth");
    config.dataroot = dir.path().string();
    config.version = "v1.0-synth";
    config.nsweeps = 3;
    config.lidarseg = true;
  }
};

const Synthetic& synthetic() {
  static const Synthetic instance;
  return instance;
}

std::array<double, 9> box_of(const SampleBoxes& boxes, int64_t row) {
  std::array<double, 9> box{};
  for (int64_t k = 0; k < 9; ++k) box[static_cast<size_t>(k)] = boxes.boxes[row][k].item<double>();
  return box;
}

TEST(GtPaste, BoxOverlapIsTheRotatedRectangleTest) {
  const std::array<double, 9> a = {0, 0, 0, 2, 4, 1, 0, 0, 0};  // 4 m along x, 2 m along y
  std::array<double, 9> b = a;
  b[0] = 3.9;
  EXPECT_TRUE(boxes_overlap_bev(a, b));
  b[0] = 4.1;
  EXPECT_FALSE(boxes_overlap_bev(a, b));
  b[6] = M_PI / 2;  // turned across: reaches 1 m back to x = 3.1, still clear of a's 2 m
  EXPECT_FALSE(boxes_overlap_bev(a, b));
  b[0] = 2.9;
  EXPECT_TRUE(boxes_overlap_bev(a, b));
  // Diagonal neighbours whose axis-aligned bounds overlap but the boxes do not.
  const std::array<double, 9> c = {0, 0, 0, 1, 4, 1, M_PI / 4, 0, 0};
  const std::array<double, 9> d = {2.0, -2.0, 0, 1, 4, 1, M_PI / 4, 0, 0};
  EXPECT_FALSE(boxes_overlap_bev(c, d));
}

TEST(GtPaste, TheDatabaseHoldsEveryObjectWithItsPointsAndLabels) {
  const Synthetic& s = synthetic();
  const NuScenesDataset train(s.nusc, "synth_train", s.config);
  const GroundTruthDatabase database = build_gt_database(train, 5);
  ASSERT_GT(database.objects.size(), 10u);
  EXPECT_EQ(database.frame, "lidar");
  EXPECT_EQ(database.nsweeps, 3);
  for (const GtObject& object : database.objects) {
    ASSERT_GE(object.num_points, 5);
    const torch::Tensor points = database.points.slice(0, object.first_point, object.first_point + object.num_points);
    std::array<double, 9> centred = object.box;
    centred[0] = centred[1] = centred[2] = 0;
    EXPECT_TRUE(points_in_box(points, centred).all().item<bool>()) << object.sample_token;
    const torch::Tensor labels = database.point_labels.slice(0, object.first_point, object.first_point + object.num_points);
    // Keyframe points (no time lag) carry lidarseg labels, older sweeps' points -1.
    EXPECT_TRUE(torch::equal(labels >= 0, points.select(1, 4) == 0)) << object.sample_token;
  }
  ptqat::testing::TempDir dir;
  write_gt_database(database, dir.file("gtdb.h5"));
  const GroundTruthDatabase back = read_gt_database(dir.file("gtdb.h5"));
  EXPECT_EQ(back.objects.size(), database.objects.size());
  EXPECT_TRUE(torch::equal(back.points, database.points));
  EXPECT_TRUE(torch::equal(back.point_labels, database.point_labels));
  EXPECT_EQ(back.objects[3].box, database.objects[3].box);
  EXPECT_EQ(back.by_class, database.by_class);
  expect_error<IoError>([&] { read_gt_database(dir.file("none.h5")); }, {"none.h5", "ptqat data gtdb"});
}

TEST(GtPaste, PastedObjectsLandWithoutCollisionsWithTheirPointsAndLabels) {
  const Synthetic& s = synthetic();
  const NuScenesDataset train(s.nusc, "synth_train", s.config);
  const GroundTruthDatabase database = build_gt_database(train, 5);
  const NuScenesDataset val(s.nusc, "synth_val", s.config);
  int64_t pasted_total = 0;
  for (int64_t i = 0; i < val.size(); ++i) {
    Sample sample = val.get(i);
    const int64_t boxes_before = sample.boxes.size();
    std::mt19937_64 rng(static_cast<uint64_t>(i));
    const std::vector<int64_t> many(kNumDetectionClasses, 8);
    const int64_t pasted = paste_ground_truth(sample, database, many, rng);
    pasted_total += pasted;
    ASSERT_EQ(sample.boxes.size(), boxes_before + pasted);
    ASSERT_EQ(sample.point_labels.size(0), sample.keyframe_points);
    EXPECT_TRUE((sample.points.slice(0, 0, sample.keyframe_points).select(1, 4) == 0).all().item<bool>());
    // No two boxes overlap where a pasted one is involved: checked on a grid of points of each
    // pasted box's footprint, independently of the separating-axis test.
    for (int64_t p = boxes_before; p < sample.boxes.size(); ++p) {
      const std::array<double, 9> box = box_of(sample.boxes, p);
      std::vector<float> grid;
      for (double u = -0.5; u <= 0.5; u += 0.05) {
        for (double v = -0.5; v <= 0.5; v += 0.05) {
          const double along = u * box[4], across = v * box[3];
          grid.insert(grid.end(), {static_cast<float>(box[0] + along * std::cos(box[6]) - across * std::sin(box[6])),
                                   static_cast<float>(box[1] + along * std::sin(box[6]) + across * std::cos(box[6])),
                                   0.0f});
        }
      }
      const torch::Tensor footprint = torch::tensor(grid).reshape({-1, 3});
      for (int64_t q = 0; q < sample.boxes.size(); ++q) {
        if (q == p) continue;
        std::array<double, 9> other = box_of(sample.boxes, q);
        other[2] = 0;
        other[5] = 1e6;  // footprints only
        EXPECT_FALSE(points_in_box(footprint, other).any().item<bool>())
            << "sample " << sample.token << ": pasted box " << p << " overlaps box " << q;
      }
    }
    // The pasted objects' points close the keyframe block (keyframe points, with the database's
    // labels) and the whole cloud (older sweeps), in paste order; no point of the scene is left
    // inside a pasted box (shrunk by 1 mm against rounding at its faces).
    std::vector<torch::Tensor> keyframe, sweeps, labels;
    for (int64_t p = boxes_before; p < sample.boxes.size(); ++p) {
      const std::array<double, 9> box = box_of(sample.boxes, p);
      const GtObject* object = nullptr;
      for (const GtObject& candidate : database.objects) {
        if (candidate.box == box) object = &candidate;
      }
      ASSERT_NE(object, nullptr);
      torch::Tensor points = database.points.slice(0, object->first_point, object->first_point + object->num_points).clone();
      for (int64_t k = 0; k < 3; ++k) points.select(1, k) += static_cast<float>(box[static_cast<size_t>(k)]);
      const torch::Tensor own_labels = database.point_labels.slice(0, object->first_point, object->first_point + object->num_points);
      const torch::Tensor is_keyframe = points.select(1, 4) == 0;
      keyframe.push_back(points.index({is_keyframe}));
      sweeps.push_back(points.index({~is_keyframe}));
      labels.push_back(own_labels.index({is_keyframe}));
    }
    if (pasted == 0) continue;
    const torch::Tensor pasted_keyframe = torch::cat(keyframe), pasted_sweeps = torch::cat(sweeps);
    const int64_t scene_keyframe = sample.keyframe_points - pasted_keyframe.size(0);
    EXPECT_TRUE(torch::equal(sample.points.slice(0, scene_keyframe, sample.keyframe_points), pasted_keyframe));
    EXPECT_TRUE(torch::equal(sample.points.slice(0, sample.points.size(0) - pasted_sweeps.size(0)), pasted_sweeps));
    EXPECT_TRUE(torch::equal(sample.point_labels.slice(0, scene_keyframe), torch::cat(labels)));
    const torch::Tensor scene = torch::cat({sample.points.slice(0, 0, scene_keyframe),
                                            sample.points.slice(0, sample.keyframe_points,
                                                                sample.points.size(0) - pasted_sweeps.size(0))});
    for (int64_t p = boxes_before; p < sample.boxes.size(); ++p) {
      std::array<double, 9> shrunk = box_of(sample.boxes, p);
      for (size_t k = 3; k < 6; ++k) shrunk[k] -= 2e-3;
      EXPECT_FALSE(points_in_box(scene, shrunk).any().item<bool>()) << sample.token << " box " << p;
    }
  }
  EXPECT_GT(pasted_total, 3);

  Sample with_grid = val.get(0);
  with_grid.occ_semantics = torch::zeros({200, 200, 16}, torch::kUInt8);
  std::mt19937_64 rng(0);
  expect_error<DataError>([&] { paste_ground_truth(with_grid, database, kMmdet3dPasteCounts, rng); },
                          {"GT-paste augmentation cannot be combined with Occ3D labels"});
}

}  // namespace
}  // namespace ptqat::datasets
