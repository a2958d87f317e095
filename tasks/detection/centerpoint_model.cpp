#include "tasks/detection/centerpoint_model.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "quant/sync_batch_norm.h"

namespace ptqat::tasks::detection {

namespace nn = torch::nn;

namespace {

/// CenterPoint's heatmap bias: sigmoid(-2.19) = 0.1, the prior of a peak (focal-loss init).
constexpr double kHeatmapBias = -2.19;

/// mmcv's kaiming_init as mmdet3d applies it to SECOND, SECONDFPN and the regression branches:
/// normal, fan_out, ReLU gain, zero bias.
void kaiming_init(torch::Tensor& weight, torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
  if (bias.defined()) bias.zero_();
}

quant::QConvBn2d conv_bn(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                         double eps, double momentum) {
  quant::QConvBn2d layer(
      nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false),
      nn::BatchNorm2dOptions(out).eps(eps).momentum(momentum));
  kaiming_init(layer->conv->weight, layer->conv->bias);
  return layer;
}

}  // namespace

torch::Tensor CenterPointHeadOutput::regression() const {
  return torch::cat({offset, height, size, rotation, velocity}, 1);
}

NeckBranchImpl::NeckBranchImpl(int64_t in_channels, int64_t out_channels, double factor,
                               double bn_eps, double bn_momentum) {
  if (factor >= 1.0) {
    const auto kernel = static_cast<int64_t>(std::llround(factor));
    up = register_module(
        "up", quant::QConvTranspose2d(nn::ConvTranspose2dOptions(in_channels, out_channels, kernel)
                                          .stride(kernel)
                                          .bias(false)));
    kaiming_init(up->conv->weight, up->conv->bias);
    bn = register_module(
        "bn",
        nn::BatchNorm2d(nn::BatchNorm2dOptions(out_channels).eps(bn_eps).momentum(bn_momentum)));
  } else {
    const auto kernel = static_cast<int64_t>(std::llround(1.0 / factor));
    down = register_module(
        "down", conv_bn(in_channels, out_channels, kernel, kernel, 0, bn_eps, bn_momentum));
  }
}

torch::Tensor NeckBranchImpl::forward(const torch::Tensor& x) {
  return torch::relu(up ? quant::batch_norm(bn, up(x)) : down(x));
}

HeadBranchImpl::HeadBranchImpl(int64_t in_channels, int64_t hidden_channels, int64_t out_channels,
                               double bn_eps, double bn_momentum) {
  hidden = register_module("hidden",
                           conv_bn(in_channels, hidden_channels, 3, 1, 1, bn_eps, bn_momentum));
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
    kaiming_init((*b)->out->conv->weight, (*b)->out->conv->bias);
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
    : config_(config) {
  validate(config_, pillars);
  grid_ = head_grid(config_, pillars);
  grid_x_ = pillars.grid_x();
  grid_y_ = pillars.grid_y();
  class_groups_ = config_.class_groups();
  const double eps = config_.bn_eps, momentum = config_.bn_momentum;

  pfn_ =
      register_module("pfn", PillarFeatureNet(point_features, config_.pfn_channels, eps, momentum));

  // SECOND: per stage a strided conv3x3 then backbone_layers[s] conv3x3, each + BN + ReLU.
  auto backbone = register_module("backbone", nn::ModuleList());
  int64_t in = pfn_->out_channels();
  for (size_t s = 0; s < config_.backbone_layers.size(); ++s) {
    const int64_t channels = config_.backbone_channels[s];
    auto stage = nn::ModuleList();
    std::vector<quant::QConvBn2d> layers;
    for (int64_t i = 0; i <= config_.backbone_layers[s]; ++i) {
      layers.push_back(conv_bn(i == 0 ? in : channels, channels, 3,
                               i == 0 ? config_.backbone_strides[s] : 1, 1, eps, momentum));
      stage->push_back(layers.back());
    }
    backbone->push_back(stage);
    backbone_.push_back(std::move(layers));
    in = channels;
  }

  // SECOND-FPN: every stage to the common resolution, concatenated.
  auto neck = register_module("neck", nn::ModuleList());
  int64_t concatenated = 0;
  for (size_t s = 0; s < backbone_.size(); ++s) {
    neck_.push_back(NeckBranch(config_.backbone_channels[s], config_.upsample_channels[s],
                               config_.upsample_strides[s], eps, momentum));
    neck->push_back(neck_.back());
    concatenated += config_.upsample_channels[s];
  }

  shared_ = register_module("shared",
                            conv_bn(concatenated, config_.shared_channels, 3, 1, 1, eps, momentum));
  auto heads = register_module("heads", nn::ModuleList());
  for (const std::vector<int>& group : class_groups_) {
    heads_.push_back(TaskHead(config_.shared_channels, config_.head_channels,
                              static_cast<int64_t>(group.size()), eps, momentum));
    heads->push_back(heads_.back());
  }
}

CenterPointOutput CenterPointModelImpl::forward(const datasets::Batch& batch) {
  const torch::Tensor pillars = pfn_(batch.pillar_features, batch.pillar_num_points);
  return forward_bev(scatter_to_bev(pillars, batch.pillar_coords, batch.size(), grid_y_, grid_x_));
}

CenterPointOutput CenterPointModelImpl::forward_bev(const torch::Tensor& bev) {
  PTQAT_ASSERT(bev.dim() == 4 && bev.size(2) == grid_y_ && bev.size(3) == grid_x_,
               "BEV input {} does not match the pillar grid {} x {}", fmt::join(bev.sizes(), "x"),
               grid_y_, grid_x_);
  // Backbone first, then the neck: the forward order of the quantizable layers follows the
  // data, as in SECOND + SECONDFPN.
  std::vector<torch::Tensor> stages;
  torch::Tensor x = bev;
  for (std::vector<quant::QConvBn2d>& stage : backbone_) {
    for (quant::QConvBn2d& conv : stage) x = torch::relu(conv(x));
    stages.push_back(x);
  }
  std::vector<torch::Tensor> resampled;
  for (size_t s = 0; s < stages.size(); ++s) resampled.push_back(neck_[s](stages[s]));
  const torch::Tensor shared = torch::relu(shared_(torch::cat(resampled, 1)));
  CenterPointOutput output;
  for (TaskHead& head : heads_) output.push_back(head(shared));
  return output;
}

}  // namespace ptqat::tasks::detection
