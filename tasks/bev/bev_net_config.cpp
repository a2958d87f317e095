#include "tasks/bev/bev_net_config.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

#include "core/error.h"

namespace ptqat::tasks::bev {

using core::IntRange;
using core::RealRange;
using core::Stage;

namespace {

constexpr int64_t kMaxChannels = 4096;

/// The integer k of a neck factor: the factor itself when >= 1, else 1 / factor; 0 when not an
/// integer (within 1e-6).
int64_t neck_kernel(double factor) {
  const double k = factor >= 1.0 ? factor : 1.0 / factor;
  const double rounded = std::round(k);
  return std::abs(k - rounded) < 1e-6 && rounded >= 1 ? static_cast<int64_t>(rounded) : 0;
}

/// Backbone stride of stage `s`: the product of the first s + 1 strides.
int64_t cumulative_stride(const BevNetConfig& config, size_t s) {
  int64_t stride = 1;
  for (size_t i = 0; i <= s; ++i) stride *= config.backbone_strides[i];
  return stride;
}

void validate_second(const BevNetConfig& config) {
  const size_t stages = config.backbone_layers.size();
  PTQAT_CHECK(stages >= 1, ConfigError, "model.backbone_layers: expected at least one stage");
  const auto same_length = [&](const char* key, size_t length) {
    PTQAT_CHECK(length == stages, ConfigError,
                "model.{}: expected one value per backbone stage ({}), got {}", key, stages,
                length);
  };
  same_length("backbone_strides", config.backbone_strides.size());
  same_length("backbone_channels", config.backbone_channels.size());
  same_length("upsample_strides", config.upsample_strides.size());
  same_length("upsample_channels", config.upsample_channels.size());

  const int64_t factor = config.out_size_factor();
  for (size_t s = 0; s < stages; ++s) {
    const double up = config.upsample_strides[s];
    PTQAT_CHECK(neck_kernel(up) > 0, ConfigError,
                "model.upsample_strides: expected a whole number >= 1 or its inverse, got {}", up);
    const double stage_factor = static_cast<double>(cumulative_stride(config, s)) / up;
    PTQAT_CHECK(std::abs(stage_factor - static_cast<double>(factor)) < 1e-6, ConfigError,
                "model.upsample_strides: expected every stage at one resolution (backbone "
                "stride / upsample stride = {} as stage 0), got {} for stage {}",
                factor, stage_factor, s);
  }
}

}  // namespace

void WindowTransformerConfig::visit(core::ConfigVisitor& v) {
  v.section("transformer", [&] {
    v.field({"patch_size", "pillar cells per token side (patch embedding kernel and stride)",
             Stage::kFloatTrain},
            patch_size, IntRange{1, 64});
    v.field({"embed_dim", "channels of a token", Stage::kFloatTrain}, embed_dim,
            IntRange{1, kMaxChannels});
    v.field({"depth", "attention + MLP blocks", Stage::kFloatTrain}, depth, IntRange{1, 64});
    v.field({"heads", "attention heads (divide embed_dim)", Stage::kFloatTrain}, heads,
            IntRange{1, 256});
    v.field({"window", "tokens per attention window side", Stage::kFloatTrain}, window,
            IntRange{1, 256});
    v.field({"mlp_ratio", "hidden width of the MLP / embed_dim", Stage::kFloatTrain}, mlp_ratio,
            RealRange{0.0, 64.0, true});
    v.field({"shift", "shift every other block's windows by half a window", Stage::kFloatTrain},
            shift);
  });
}

void BevNetConfig::visit_fields(core::ConfigVisitor& v) {
  v.field({"pfn_channels", "output channels of each pillar feature net layer", Stage::kFloatTrain},
          pfn_channels, IntRange{1, kMaxChannels});
  v.choice({"encoder", "BEV encoder: SECOND + SECOND-FPN (CNN) or a windowed Transformer",
            Stage::kFloatTrain},
           encoder, {"second", "transformer"});
  v.field({"backbone_layers", "per backbone stage: conv3x3 layers after its strided one",
           Stage::kFloatTrain},
          backbone_layers, IntRange{0, 64});
  v.field({"backbone_strides", "per backbone stage: stride of its first conv3x3", Stage::kFloatTrain},
          backbone_strides, IntRange{1, 8});
  v.field({"backbone_channels", "per backbone stage: output channels", Stage::kFloatTrain},
          backbone_channels, IntRange{1, kMaxChannels});
  v.field({"upsample_strides",
           "per stage: neck resampling factor (>= 1 transposed conv, < 1 strided conv)",
           Stage::kFloatTrain},
          upsample_strides, RealRange{0.0, 64.0, true});
  v.field({"neck_conv_for_no_stride",
           "a neck factor of 1 as a 1x1 conv (true, mmdet3d's use_conv_for_no_stride) or a 1x1 "
           "transposed conv",
           Stage::kFloatTrain},
          neck_conv_for_no_stride);
  v.field({"upsample_channels", "per stage: output channels of its neck branch", Stage::kFloatTrain},
          upsample_channels, IntRange{1, kMaxChannels});
  v.field({"shared_channels", "output channels of the shared conv3x3 the task heads see",
           Stage::kFloatTrain},
          shared_channels, IntRange{1, kMaxChannels});
  v.field({"bn_eps", "epsilon of every BatchNorm", Stage::kFloatTrain}, bn_eps,
          RealRange{0.0, 1.0, true});
  v.field({"bn_momentum", "momentum of every BatchNorm's running statistics", Stage::kFloatTrain},
          bn_momentum, RealRange{0.0, 1.0});
  transformer.visit(v);
}

int64_t BevNetConfig::out_size_factor() const {
  if (encoder == "transformer") return transformer.patch_size;
  PTQAT_CHECK(!backbone_strides.empty() && !upsample_strides.empty(), ConfigError,
              "model.backbone_strides: expected at least one stage");
  const double factor = static_cast<double>(backbone_strides[0]) / upsample_strides[0];
  const double rounded = std::round(factor);
  PTQAT_CHECK(std::abs(factor - rounded) < 1e-6 && rounded >= 1, ConfigError,
              "model.upsample_strides: expected stage 0's backbone stride / upsample stride to be "
              "a whole number >= 1, got {} / {}",
              backbone_strides[0], upsample_strides[0]);
  return static_cast<int64_t>(rounded);
}

void validate(const BevNetConfig& config, const datasets::PillarConfig& pillars) {
  datasets::validate(pillars);
  PTQAT_CHECK(!config.pfn_channels.empty(), ConfigError,
              "model.pfn_channels: expected at least one layer");
  int64_t divisor = config.out_size_factor();
  if (config.encoder == "second") {
    validate_second(config);
    divisor = std::max(divisor, cumulative_stride(config, config.backbone_layers.size() - 1));
  } else {
    const WindowTransformerConfig& t = config.transformer;
    PTQAT_CHECK(t.embed_dim % t.heads == 0, ConfigError,
                "model.transformer.heads: expected a divisor of embed_dim {}, got {}", t.embed_dim,
                t.heads);
  }
  const std::array<std::pair<const char*, int64_t>, 2> axes = {
      {{"x", pillars.grid_x()}, {"y", pillars.grid_y()}}};
  for (const auto& [axis, cells] : axes) {
    PTQAT_CHECK(cells % divisor == 0 && cells % config.out_size_factor() == 0, ConfigError,
                "model.{}: expected the pillar grid ({} cells along {}) divisible by the "
                "encoder's total stride {}",
                config.encoder == "second" ? "backbone_strides" : "transformer.patch_size", cells,
                axis, divisor);
  }
  if (config.encoder == "transformer") {
    const int64_t tokens_x = pillars.grid_x() / config.out_size_factor();
    const int64_t tokens_y = pillars.grid_y() / config.out_size_factor();
    PTQAT_CHECK(tokens_x % config.transformer.window == 0 &&
                    tokens_y % config.transformer.window == 0,
                ConfigError,
                "model.transformer.window: expected a divisor of the token grid {} x {}, got {}",
                tokens_x, tokens_y, config.transformer.window);
  }
}

BevGrid bev_grid(const BevNetConfig& config, const datasets::PillarConfig& pillars) {
  const int64_t factor = config.out_size_factor();
  BevGrid grid;
  grid.x_min = pillars.point_range[0];
  grid.y_min = pillars.point_range[1];
  grid.cell_x = pillars.pillar_size[0] * static_cast<double>(factor);
  grid.cell_y = pillars.pillar_size[1] * static_cast<double>(factor);
  grid.width = pillars.grid_x() / factor;
  grid.height = pillars.grid_y() / factor;
  return grid;
}

}  // namespace ptqat::tasks::bev
