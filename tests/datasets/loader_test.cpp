#include "datasets/loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "tests/support/nuscenes_fixture.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {

using testing::TempDir;

namespace {

struct LoaderScene {
  TempDir dir;
  std::shared_ptr<NuScenes> nusc;
  std::unique_ptr<NuScenesDataset> dataset;
  PillarConfig pillars;

  LoaderScene() {
    testing::standard_fixture({"scene-0061", "scene-0553", "scene-0655"}, 3, 2)
        .write(dir.path().string());
    nusc = std::make_shared<NuScenes>(dir.path().string(), "v1.0-mini");
    DataConfig data;
    data.dataroot = dir.path().string();
    data.nsweeps = 3;
    data.lidarseg = true;
    dataset = std::make_unique<NuScenesDataset>(nusc, "mini_train", data);
    pillars.point_range = {-25.6, -25.6, -5, 25.6, 25.6, 3};
    pillars.pillar_size = {0.8, 0.8};
    pillars.max_points_per_pillar = 8;
    pillars.max_pillars = 2000;
  }

  std::vector<Batch> run(int64_t workers, int64_t epoch, bool augment, int rank = 0,
                         int world = 1) {
    LoaderConfig config;
    config.batch_size = 2;
    config.workers = workers;
    config.prefetch = 2;
    AugmentConfig augmentation;
    augmentation.enabled = augment;
    Loader loader(*dataset, config, pillars, augmentation, rank, world, 7);
    loader.start_epoch(epoch);
    std::vector<Batch> batches;
    while (auto batch = loader.next()) batches.push_back(std::move(*batch));
    EXPECT_EQ(static_cast<int64_t>(batches.size()), loader.steps_per_epoch());
    return batches;
  }
};

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens);
    EXPECT_TRUE(torch::equal(a[i].points, b[i].points));
    EXPECT_TRUE(torch::equal(a[i].pillar_features, b[i].pillar_features));
    EXPECT_TRUE(torch::equal(a[i].pillar_coords, b[i].pillar_coords));
  }
}

}  // namespace

TEST(Loader, BatchesDoNotDependOnTheNumberOfWorkers) {
  LoaderScene scene;
  const auto inline_batches = scene.run(0, 1, true);
  expect_same(inline_batches, scene.run(1, 1, true));
  expect_same(inline_batches, scene.run(3, 1, true));
}

TEST(Loader, CoversTheSplitAndCollatesConsistently) {
  LoaderScene scene;
  const auto batches = scene.run(2, 0, false);
  ASSERT_EQ(batches.size(), 5u);  // 9 samples, batch 2
  std::set<std::string> tokens;
  for (const Batch& batch : batches) {
    tokens.insert(batch.tokens.begin(), batch.tokens.end());
    const int64_t points = batch.points.size(0);
    EXPECT_EQ(batch.point_batch.size(0), points);
    EXPECT_EQ(batch.point_pillar.size(0), points);
    EXPECT_EQ(batch.point_labels.size(0), points);
    // Keyframe points are exactly the labelled ones (older sweeps' points have label -1).
    EXPECT_TRUE(batch.point_keyframe.equal(batch.point_labels >= 0));
    EXPECT_EQ(batch.boxes.size(1), 2);  // one car and one pedestrian per sample
    EXPECT_EQ(batch.pillar_coords.size(1), 3);
    EXPECT_EQ(batch.pillar_features.size(0), batch.pillar_coords.size(0));
    EXPECT_LT(batch.point_pillar.max().item<int64_t>(), batch.pillar_features.size(0));
    // Pillar coordinates name the sample they belong to.
    EXPECT_EQ(batch.pillar_coords.select(1, 0).max().item<int64_t>(), batch.size() - 1);
  }
  EXPECT_EQ(tokens.size(), 9u);
}

TEST(Loader, AugmentationDependsOnTheEpochButNotOnTheRun) {
  LoaderScene scene;
  const auto epoch2 = scene.run(2, 2, true);
  expect_same(epoch2, scene.run(2, 2, true));
  const auto plain = scene.run(2, 2, false);
  EXPECT_EQ(epoch2[0].tokens, plain[0].tokens);
  EXPECT_FALSE(torch::equal(epoch2[0].points, plain[0].points));
}

TEST(Loader, TwoRanksSplitTheShardWithEqualSteps) {
  LoaderScene scene;
  const auto rank0 = scene.run(1, 0, false, 0, 2);
  const auto rank1 = scene.run(1, 0, false, 1, 2);
  ASSERT_EQ(rank0.size(), rank1.size());
  std::set<std::string> real;
  int padded = 0;
  for (const auto* rank : {&rank0, &rank1}) {
    for (const Batch& batch : *rank) {
      for (int64_t i = 0; i < batch.size(); ++i) {
        if (batch.padding[i])
          ++padded;
        else
          EXPECT_TRUE(real.insert(batch.tokens[i]).second);
      }
    }
  }
  EXPECT_EQ(real.size(), 9u);
  EXPECT_EQ(padded, 1);  // 9 samples padded to 10
}

TEST(Loader, AWorkersErrorReachesTheConsumer) {
  LoaderScene scene;
  std::filesystem::remove(scene.dir.path() / scene.nusc->tables().sample_data.back().filename);
  LoaderConfig config;
  config.workers = 2;
  AugmentConfig augmentation;
  Loader loader(*scene.dataset, config, scene.pillars, augmentation, 0, 1, 7);
  loader.start_epoch(0);
  EXPECT_THROW(
      {
        while (loader.next()) {
        }
      },
      Error);
}

TEST(Batch, ToKeepsEveryTensor) {
  LoaderScene scene;
  const Batch batch = scene.run(0, 0, false)[0];
  const Batch moved = batch.to(torch::kCPU);
  EXPECT_TRUE(torch::equal(moved.pillar_features, batch.pillar_features));
  EXPECT_FALSE(moved.occ_semantics.defined());
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device for the GPU copy";
  EXPECT_TRUE(batch.to(torch::kCUDA).pillar_features.is_cuda());
}

}  // namespace ptqat::datasets
