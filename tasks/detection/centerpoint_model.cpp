#include "tasks/detection/centerpoint_model.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "tasks/bev/bev_layers.h"

namespace ptqat::tasks::detection {

namespace nn = torch::nn;

namespace {

/// CenterPoint's heatmap bias: sigmoid(-2.19) = 0.1, the prior of a peak (focal-loss init).
constexpr double kHeatmapBias = -2.19;

}  // namespace

torch::Tensor CenterPointHeadOutput::regression() const {
  return torch::cat({offset, height, size, rotation, velocity}, 1);
}

HeadBranchImpl::HeadBranchImpl(int64_t in_channels, int64_t hidden_channels, int64_t out_channels,
                               double bn_eps, double bn_momentum) {
  hidden = register_module("hidden",
                           bev::conv_bn(in_channels, hidden_channels, 3, 1, 1, bn_eps, bn_momentum));
  out = register_module(
      "out", quant::QConv2d(nn::Conv2dOptions(hidden_channels, out_channels, 3).padding(1)));
}

torch::Tensor HeadBranchImpl::forward(const torch::Tensor& x) {
  return out(torch::relu(hidden(x)));
}

TaskHeadImpl::TaskHeadImpl(int64_t in_channels, int64_t hidden_channels, int64_t classes,
                           double bn_eps, double bn_momentum) {
  const auto branch = [&](const char* name, int64_t out_channels) {
    return register_module(
        name, HeadBranch(in_channels, hidden_channels, out_channels, bn_eps, bn_momentum));
  };
  heatmap = branch("heatmap", classes);
  offset = branch("offset", 2);
  height = branch("height", 1);
  size = branch("size", 3);
  rotation = branch("rotation", 2);
  velocity = branch("velocity", 2);
  // mmdet3d SeparateHead.init_weights: the heatmap's final conv keeps the default init with the
  // prior bias; the regression branches' final convs get kaiming_init.
  {
    torch::NoGradGuard no_grad;
    heatmap->out->conv->bias.fill_(kHeatmapBias);
  }
  for (HeadBranch* b : {&offset, &height, &size, &rotation, &velocity}) {
    bev::kaiming_init((*b)->out->conv->weight, (*b)->out->conv->bias);
  }
}

CenterPointHeadOutput TaskHeadImpl::forward(const torch::Tensor& x) {
  CenterPointHeadOutput output;
  output.heatmap = heatmap(x);
  output.offset = offset(x);
  output.height = height(x);
  output.size = size(x);
  output.rotation = rotation(x);
  output.velocity = velocity(x);
  return output;
}

CenterPointModelImpl::CenterPointModelImpl(const DetectionModelConfig& config,
                                           const datasets::PillarConfig& pillars,
                                           int64_t point_features)
    : bev::BevNetImpl(config.bev, pillars, point_features), config_(config) {
  validate(config_, pillars);
  class_groups_ = config_.class_groups();
  auto heads = register_module("heads", nn::ModuleList());
  for (const std::vector<int>& group : class_groups_) {
    heads_.push_back(TaskHead(config_.bev.shared_channels, config_.head_channels,
                              static_cast<int64_t>(group.size()), config_.bev.bn_eps,
                              config_.bev.bn_momentum));
    heads->push_back(heads_.back());
  }
}

CenterPointOutput CenterPointModelImpl::forward(const datasets::Batch& batch) {
  return head(bev_features(batch));
}

CenterPointOutput CenterPointModelImpl::forward_bev(const torch::Tensor& bev) {
  return head(encode(bev));
}

CenterPointOutput CenterPointModelImpl::head(const torch::Tensor& shared) {
  CenterPointOutput output;
  for (TaskHead& task_head : heads_) output.push_back(task_head(shared));
  return output;
}

}  // namespace ptqat::tasks::detection
