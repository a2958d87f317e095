#include "tasks/detection/mmdet3d_names.h"

#include <fmt/format.h>

#include <array>

#include "core/error.h"

namespace ptqat::tasks::detection {
namespace {

/// A BatchNorm's tensors, the same in LibTorch and PyTorch.
constexpr std::array<const char*, 5> kNormTensors = {"weight", "bias", "running_mean",
                                                     "running_var", "num_batches_tracked"};

class Names {
 public:
  void add(std::string ours, std::string theirs) {
    mapping.names.emplace_back(std::move(ours), std::move(theirs));
  }
  void norm(const std::string& ours, const std::string& theirs) {
    for (const char* tensor : kNormTensors) add(ours + "." + tensor, theirs + "." + tensor);
  }
  /// A QConvBn2d as mmcv's ConvModule (conv without bias, BN).
  void conv_bn(const std::string& ours, const std::string& conv, const std::string& norm_name) {
    add(ours + ".conv.weight", conv + ".weight");
    norm(ours + ".bn", norm_name);
  }
  quant::NameMapping mapping;
};

}  // namespace

quant::NameMapping mmdet3d_centerpoint_names(const DetectionModelConfig& config) {
  const bev::BevNetConfig& bev = config.bev;
  PTQAT_CHECK(bev.encoder == "second", ConfigError,
              "model.encoder: mmdetection3d's CenterPoint names exist for the \"second\" encoder "
              "only, got \"{}\"",
              bev.encoder);
  Names names;
  for (size_t i = 0; i < bev.pfn_channels.size(); ++i) {
    const std::string theirs = fmt::format("pts_voxel_encoder.pfn_layers.{}", i);
    names.add(fmt::format("pfn.linear{}.linear.weight", i), theirs + ".linear.weight");
    names.norm(fmt::format("pfn.linear{}.bn", i), theirs + ".norm");
  }
  // SECOND: blocks.{s} = [conv, BN, ReLU] for the strided conv and each further layer.
  for (size_t s = 0; s < bev.backbone_layers.size(); ++s) {
    for (int64_t j = 0; j <= bev.backbone_layers[s]; ++j) {
      names.conv_bn(fmt::format("backbone.{}.{}", s, j),
                    fmt::format("pts_backbone.blocks.{}.{}", s, 3 * j),
                    fmt::format("pts_backbone.blocks.{}.{}", s, 3 * j + 1));
    }
  }
  // SECONDFPN: deblocks.{s} = [deconv or conv, BN, ReLU].
  for (size_t s = 0; s < bev.upsample_strides.size(); ++s) {
    const double factor = bev.upsample_strides[s];
    const std::string theirs = fmt::format("pts_neck.deblocks.{}", s);
    if (factor > 1.0 || (factor == 1.0 && !bev.neck_conv_for_no_stride)) {
      names.add(fmt::format("neck.{}.up.conv.weight", s), theirs + ".0.weight");
      names.norm(fmt::format("neck.{}.up.bn", s), theirs + ".1");
    } else {
      names.conv_bn(fmt::format("neck.{}.down", s), theirs + ".0", theirs + ".1");
    }
  }
  names.conv_bn("shared", "pts_bbox_head.shared_conv.conv", "pts_bbox_head.shared_conv.bn");
  // CenterHead's SeparateHead per task group: a ConvModule then the final conv with bias.
  constexpr std::array<std::pair<const char*, const char*>, 6> kBranches = {
      {{"offset", "reg"},
       {"height", "height"},
       {"size", "dim"},
       {"rotation", "rot"},
       {"velocity", "vel"},
       {"heatmap", "heatmap"}}};
  for (size_t g = 0; g < config.class_groups().size(); ++g) {
    for (const auto& [ours, theirs] : kBranches) {
      const std::string our_branch = fmt::format("heads.{}.{}", g, ours);
      const std::string their_branch = fmt::format("pts_bbox_head.task_heads.{}.{}", g, theirs);
      names.conv_bn(our_branch + ".hidden", their_branch + ".0.conv", their_branch + ".0.bn");
      names.add(our_branch + ".out.conv.weight", their_branch + ".1.weight");
      names.add(our_branch + ".out.conv.bias", their_branch + ".1.bias");
    }
  }
  return names.mapping;
}

}  // namespace ptqat::tasks::detection
