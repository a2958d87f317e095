#include "tasks/bev/bev_net.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace ptqat::tasks::bev {

namespace nn = torch::nn;

BevNetImpl::BevNetImpl(const BevNetConfig& config, const datasets::PillarConfig& pillars,
                       int64_t point_features)
    : config_(config) {
  validate(config_, pillars);
  grid_ = bev_grid(config_, pillars);
  grid_x_ = pillars.grid_x();
  grid_y_ = pillars.grid_y();
  const double eps = config_.bn_eps, momentum = config_.bn_momentum;

  pfn_ =
      register_module("pfn", PillarFeatureNet(point_features, config_.pfn_channels, eps, momentum));
  int64_t encoded = 0;
  if (config_.encoder == "transformer") {
    transformer_ = register_module(
        "encoder",
        WindowTransformer(pfn_->out_channels(), config_.transformer, grid_y_, grid_x_));
    encoded = config_.transformer.embed_dim;
  } else {
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
    for (size_t s = 0; s < backbone_.size(); ++s) {
      neck_.push_back(NeckBranch(config_.backbone_channels[s], config_.upsample_channels[s],
                                 config_.upsample_strides[s],
                                 config_.neck_conv_for_no_stride, eps, momentum));
      neck->push_back(neck_.back());
      encoded += config_.upsample_channels[s];
    }
  }
  shared_ =
      register_module("shared", conv_bn(encoded, config_.shared_channels, 3, 1, 1, eps, momentum));
}

torch::Tensor BevNetImpl::bev_features(const datasets::Batch& batch) {
  const torch::Tensor pillars = pfn_(batch.pillar_features, batch.pillar_num_points);
  return encode(scatter_to_bev(pillars, batch.pillar_coords, batch.size(), grid_y_, grid_x_));
}

torch::Tensor BevNetImpl::encode(const torch::Tensor& pseudo_image) {
  PTQAT_ASSERT(pseudo_image.dim() == 4 && pseudo_image.size(2) == grid_y_ &&
                   pseudo_image.size(3) == grid_x_,
               "BEV input {} does not match the pillar grid {} x {}",
               fmt::join(pseudo_image.sizes(), "x"), grid_y_, grid_x_);
  if (transformer_) return torch::relu(shared_(transformer_(pseudo_image)));
  // Backbone first, then the neck: the forward order of the quantizable layers follows the
  // data, as in SECOND + SECOND-FPN.
  std::vector<torch::Tensor> stages;
  torch::Tensor x = pseudo_image;
  for (std::vector<quant::QConvBn2d>& stage : backbone_) {
    for (quant::QConvBn2d& conv : stage) x = torch::relu(conv(x));
    stages.push_back(x);
  }
  std::vector<torch::Tensor> resampled;
  for (size_t s = 0; s < stages.size(); ++s) resampled.push_back(neck_[s](stages[s]));
  return torch::relu(shared_(torch::cat(resampled, 1)));
}

}  // namespace ptqat::tasks::bev
