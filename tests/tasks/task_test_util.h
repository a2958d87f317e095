#pragma once
// Shared steps of the task tests: the batches of a small split, and the check that a loss
// reaches every trainable parameter.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "datasets/augment.h"
#include "datasets/batch.h"
#include "datasets/data_config.h"
#include "datasets/loader.h"
#include "datasets/nuscenes/nuscenes.h"
#include "datasets/nuscenes_dataset.h"
#include "datasets/pillars.h"

namespace ptqat::tasks::task_tests {

/// The devkit's golden v1.0-mini (tests/data/devkit-golden) and its split mini_val, read with
/// `data` (its dataroot and version are set here).
struct GoldenSplit {
  explicit GoldenSplit(datasets::DataConfig data) {
    const std::string root = std::string(PTQAT_TEST_DATA_DIR) + "/devkit-golden";
    index = std::make_shared<datasets::NuScenes>(root, "v1.0-mini");
    data.dataroot = root;
    data.version = "v1.0-mini";
    dataset = std::make_unique<datasets::NuScenesDataset>(index, "mini_val", data);
  }

  std::shared_ptr<datasets::NuScenes> index;
  std::unique_ptr<datasets::NuScenesDataset> dataset;
};

/// Every batch of one epoch of `dataset` in sample order: 4 samples each, no augmentation, no
/// loader workers.
inline std::vector<datasets::Batch> epoch_batches(const datasets::NuScenesDataset& dataset,
                                                  const datasets::PillarConfig& pillars) {
  datasets::LoaderConfig config;
  config.batch_size = 4;
  config.workers = 0;
  datasets::Loader loader(dataset, config, pillars, datasets::AugmentConfig{}, 0, 1, 3);
  loader.start_epoch(0);
  std::vector<datasets::Batch> all;
  while (auto batch = loader.next()) all.push_back(std::move(*batch));
  return all;
}

/// Checks that every parameter of `model` that requires grad has one (after a backward) and
/// returns how many do. Quantizer scales do not require grad before fine-tuning.
inline int64_t expect_every_trainable_parameter_has_grad(torch::nn::Module& model) {
  int64_t trained = 0;
  for (const auto& parameter : model.named_parameters()) {
    if (!parameter.value().requires_grad()) continue;
    EXPECT_TRUE(parameter.value().grad().defined()) << parameter.key();
    ++trained;
  }
  return trained;
}

}  // namespace ptqat::tasks::task_tests
