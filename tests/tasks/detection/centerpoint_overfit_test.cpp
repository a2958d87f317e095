// The whole detector learns: a tiny CenterPoint trained on one fixed batch of two synthetic
// samples fits it, and decoding finds the boxes again.

#include <gtest/gtest.h>

#include <cmath>

#include "datasets/batch.h"
#include "datasets/pillars.h"
#include "tasks/detection/centerpoint_decode.h"
#include "tasks/detection/centerpoint_loss.h"
#include "tasks/detection/centerpoint_model.h"
#include "tasks/detection/centerpoint_targets.h"
#include "tests/tasks/detection/tiny_centerpoint.h"

namespace ptqat::tasks::detection {
namespace {

using testing::tiny_config;
using testing::tiny_pillars;

struct SyntheticBox {
  float x, y, z, w, l, h, yaw, vx, vy;
  int64_t label;
};

/// `count` points uniformly inside `box`, as [count, 5] (x, y, z, intensity, time lag).
torch::Tensor points_in(const SyntheticBox& box, int64_t count) {
  const auto local = (torch::rand({count, 3}) - 0.5) * torch::tensor({box.l, box.w, box.h});
  const float c = std::cos(box.yaw), s = std::sin(box.yaw);
  const auto lx = local.select(1, 0), ly = local.select(1, 1);
  return torch::stack({lx * c - ly * s + box.x, lx * s + ly * c + box.y, local.select(1, 2) + box.z,
                       torch::full({count}, 0.8F), torch::zeros({count})},
                      1);
}

/// A sample: its boxes' points plus ground points over the grid at z = -1.8.
datasets::Sample synthetic_sample(const std::string& token,
                                  const std::vector<SyntheticBox>& boxes) {
  std::vector<torch::Tensor> points;
  for (const SyntheticBox& box : boxes) points.push_back(points_in(box, 200));
  const auto ground_xy = (torch::rand({600, 2}) - 0.5) * 25.0;
  points.push_back(torch::cat({ground_xy, torch::full({600, 1}, -1.8F), torch::full({600, 1}, 0.1F),
                               torch::zeros({600, 1})},
                              1));
  datasets::Sample sample;
  sample.token = token;
  sample.points = torch::cat(points);
  sample.keyframe_points = sample.points.size(0);
  std::vector<float> values;
  std::vector<int64_t> labels;
  for (const SyntheticBox& box : boxes) {
    values.insert(values.end(),
                  {box.x, box.y, box.z, box.w, box.l, box.h, box.yaw, box.vx, box.vy});
    labels.push_back(box.label);
  }
  const auto count = static_cast<int64_t>(boxes.size());
  sample.boxes.boxes = torch::tensor(values).view({count, 9});
  sample.boxes.labels = torch::tensor(labels, torch::kInt64);
  sample.boxes.attributes = torch::full({count}, -1, torch::kInt64);
  sample.boxes.num_lidar_pts = torch::full({count}, 200, torch::kInt64);
  return sample;
}

TEST(CenterPointOverfit, OneBatchLossFallsAndDecodingFindsTheBoxes) {
  torch::manual_seed(0);
  DetectionModelConfig config = tiny_config();
  // Running statistics that follow the one batch within the short run, so that the eval-mode
  // decode below sees what training saw.
  config.bev.bn_momentum = 0.1;
  const datasets::PillarConfig pillars = tiny_pillars();

  const SyntheticBox car = {3.3F, -2.1F, -0.9F, 1.8F, 4.2F, 1.6F, 0.4F, 2.0F, 0.5F, 0};
  const SyntheticBox other_car = {-2.0F, -7.0F, -0.9F, 1.9F, 4.5F, 1.5F, -1.2F, 0.0F, 0.0F, 0};
  const SyntheticBox pedestrian = {-4.6F, 5.2F, -0.9F, 0.6F, 0.7F, 1.8F, 1.0F, 1.0F, 0.0F, 5};
  const std::vector<datasets::Sample> samples = {
      synthetic_sample(std::string(32, 'a'), {car}),
      synthetic_sample(std::string(32, 'b'), {other_car, pedestrian})};
  std::vector<datasets::Pillars> encoded;
  for (const auto& sample : samples) encoded.push_back(datasets::pillarize(sample.points, pillars));
  const datasets::Batch batch = datasets::collate(samples, encoded);

  CenterPointModel model(config, pillars);
  const std::vector<GroupTargets> targets = build_targets(
      batch.boxes, batch.box_labels, model->class_groups(), model->grid(), config.target);
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::AdamW optimizer(trainable, torch::optim::AdamWOptions(1e-2).weight_decay(1e-2));

  // Seeds 0 to 5 all end below 1/80 of the first loss with every box within 0.25 m.
  model->train();
  double first = 0, last = 0;
  constexpr int kSteps = 100;
  for (int step = 0; step < kSteps; ++step) {
    optimizer.zero_grad();
    const StepLoss loss = centerpoint_loss(model->forward(batch), targets, config.loss);
    loss.total.backward();
    optimizer.step();
    if (step == 0) first = loss.total.item<double>();
    last = loss.total.item<double>();
  }
  EXPECT_LT(last, first / 20.0) << "first " << first << ", last " << last;

  model->eval();
  torch::NoGradGuard no_grad;
  const std::vector<DecodedBoxes> decoded =
      decode(model->forward(batch), model->class_groups(), model->grid(), config.decode);
  ASSERT_EQ(decoded.size(), 2U);
  const auto expect_found = [&](const DecodedBoxes& boxes, const SyntheticBox& box) {
    // The best-scoring box of the class lies within 0.5 m of the truth.
    for (int64_t i = 0; i < boxes.size(); ++i) {
      if (boxes.labels[i].item<int64_t>() != box.label) continue;
      const double dx = boxes.boxes[i][0].item<double>() - box.x;
      const double dy = boxes.boxes[i][1].item<double>() - box.y;
      EXPECT_LT(std::hypot(dx, dy), 0.5) << "class " << box.label << " at " << dx << ", " << dy;
      EXPECT_GT(boxes.scores[i].item<double>(), 0.3);
      return;
    }
    ADD_FAILURE() << "no box of class " << box.label;
  };
  expect_found(decoded[0], car);
  expect_found(decoded[1], other_car);
  expect_found(decoded[1], pedestrian);
  // The car's best box is also the sample's best.
  ASSERT_GT(decoded[0].size(), 0);
  EXPECT_EQ(decoded[0].labels[0].item<int64_t>(), 0);
}

}  // namespace
}  // namespace ptqat::tasks::detection
