#include "tasks/detection/detection_model_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "datasets/categories.h"

namespace ptqat::tasks::detection {

using core::IntRange;
using core::RealRange;
using core::Stage;

namespace {

constexpr int64_t kMaxChannels = 4096;

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

/// The integer k of a neck factor: the factor itself when >= 1, else 1 / factor; 0 when not an
/// integer (within 1e-6).
int64_t neck_kernel(double factor) {
  const double k = factor >= 1.0 ? factor : 1.0 / factor;
  const double rounded = std::round(k);
  return std::abs(k - rounded) < 1e-6 && rounded >= 1 ? static_cast<int64_t>(rounded) : 0;
}

/// Backbone stride of stage `s`: the product of the first s + 1 strides.
int64_t cumulative_stride(const DetectionModelConfig& config, size_t s) {
  int64_t stride = 1;
  for (size_t i = 0; i <= s; ++i) stride *= config.backbone_strides[i];
  return stride;
}

}  // namespace

void CenterPointTargetConfig::visit(core::ConfigVisitor& v) {
  v.section("target", [&] {
    v.field({"gaussian_overlap", "CenterNet min_overlap of the heatmap Gaussian radius",
             Stage::kFloatTrain},
            gaussian_overlap, RealRange{0.0, 1.0, true});
    v.field({"min_radius", "smallest heatmap Gaussian radius (head cells)", Stage::kFloatTrain},
            min_radius, IntRange{0, 64});
    v.field({"max_objects", "boxes encoded per sample and task group; more are ignored",
             Stage::kFloatTrain},
            max_objects, IntRange{1, 100000});
  });
}

void CenterPointLossConfig::visit(core::ConfigVisitor& v) {
  v.section("loss", [&] {
    v.field({"heatmap_weight", "weight of the focal heatmap loss", Stage::kFloatTrain},
            heatmap_weight, RealRange{0.0, 1e6});
    v.field({"bbox_weight", "weight of the L1 box regression loss", Stage::kFloatTrain},
            bbox_weight, RealRange{0.0, 1e6});
    v.field({"code_weights",
             "L1 weight per regression channel: dx, dy, z, log w, log l, log h, sin, cos, vx, vy",
             Stage::kFloatTrain},
            code_weights, RealRange{0.0, 1e6});
  });
}

void CenterPointDecodeConfig::visit(core::ConfigVisitor& v) {
  v.section("decode", [&] {
    v.field({"score_threshold", "boxes with a heatmap score <= this are dropped", Stage::kEvaluate},
            score_threshold, RealRange{0.0, 1.0});
    v.field({"top_k", "heatmap peaks kept per sample and task group", Stage::kEvaluate}, top_k,
            IntRange{1, 1000000});
    v.field({"circle_nms_threshold",
             "per class (detection_names order): squared centre distance (m^2) under which a "
             "lower-scoring box of the class is suppressed (CenterPoint min_radius); <= 0: no NMS",
             Stage::kEvaluate},
            circle_nms_threshold, RealRange{-1.0, 1e6});
    v.field({"max_boxes", "boxes kept per sample after NMS, best scores first", Stage::kEvaluate},
            max_boxes, IntRange{1, 1000000});
    v.field({"post_center_range",
             "x_min, y_min, z_min, x_max, y_max, z_max (m): boxes centred outside are dropped",
             Stage::kEvaluate},
            post_center_range, RealRange{-1e4, 1e4});
  });
}

void DetectionModelConfig::visit(core::ConfigVisitor& v) {
  v.section("model", [&] {
    v.field(
        {"pfn_channels", "output channels of each pillar feature net layer", Stage::kFloatTrain},
        pfn_channels, IntRange{1, kMaxChannels});
    v.field({"backbone_layers", "per backbone stage: conv3x3 layers after its strided one",
             Stage::kFloatTrain},
            backbone_layers, IntRange{0, 64});
    v.field(
        {"backbone_strides", "per backbone stage: stride of its first conv3x3", Stage::kFloatTrain},
        backbone_strides, IntRange{1, 8});
    v.field({"backbone_channels", "per backbone stage: output channels", Stage::kFloatTrain},
            backbone_channels, IntRange{1, kMaxChannels});
    v.field({"upsample_strides",
             "per stage: neck resampling factor (>= 1 transposed conv, < 1 strided conv)",
             Stage::kFloatTrain},
            upsample_strides, RealRange{0.0, 64.0, true});
    v.field(
        {"upsample_channels", "per stage: output channels of its neck branch", Stage::kFloatTrain},
        upsample_channels, IntRange{1, kMaxChannels});
    v.field({"shared_channels", "output channels of the head's shared conv3x3", Stage::kFloatTrain},
            shared_channels, IntRange{1, kMaxChannels});
    v.field({"head_channels", "hidden channels of every head branch", Stage::kFloatTrain},
            head_channels, IntRange{1, kMaxChannels});
    v.field({"task_groups", "task groups, each a comma-separated list of detection class names",
             Stage::kFloatTrain},
            task_groups);
    v.field({"bn_eps", "epsilon of every BatchNorm", Stage::kFloatTrain}, bn_eps,
            RealRange{0.0, 1.0, true});
    v.field({"bn_momentum", "momentum of every BatchNorm's running statistics", Stage::kFloatTrain},
            bn_momentum, RealRange{0.0, 1.0});
    target.visit(v);
    loss.visit(v);
    decode.visit(v);
  });
}

int64_t DetectionModelConfig::out_size_factor() const {
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

std::vector<std::vector<int>> DetectionModelConfig::class_groups() const {
  PTQAT_CHECK(!task_groups.empty(), ConfigError,
              "model.task_groups: expected at least one task group");
  std::array<bool, datasets::kNumDetectionClasses> seen{};
  std::vector<std::vector<int>> groups;
  for (const std::string& group : task_groups) {
    std::vector<int> classes;
    size_t start = 0;
    while (start <= group.size()) {
      const size_t comma = std::min(group.find(',', start), group.size());
      const std::string name = trimmed(group.substr(start, comma - start));
      int index = -1;
      for (int c = 0; c < datasets::kNumDetectionClasses; ++c) {
        if (datasets::kDetectionNames[static_cast<size_t>(c)] == name) index = c;
      }
      PTQAT_CHECK(index >= 0, ConfigError,
                  "model.task_groups: expected comma-separated detection class names ({}), got "
                  "'{}' in \"{}\"",
                  fmt::join(datasets::kDetectionNames, ", "), name, group);
      PTQAT_CHECK(!seen[static_cast<size_t>(index)], ConfigError,
                  "model.task_groups: expected each class in one group at most, got '{}' twice",
                  name);
      seen[static_cast<size_t>(index)] = true;
      classes.push_back(index);
      start = comma + 1;
    }
    groups.push_back(std::move(classes));
  }
  return groups;
}

void validate(const DetectionModelConfig& config, const datasets::PillarConfig& pillars) {
  datasets::validate(pillars);
  PTQAT_CHECK(!config.pfn_channels.empty(), ConfigError,
              "model.pfn_channels: expected at least one layer");
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
  const int64_t total_stride = cumulative_stride(config, stages - 1);
  const std::array<std::pair<const char*, int64_t>, 2> axes = {
      {{"x", pillars.grid_x()}, {"y", pillars.grid_y()}}};
  for (const auto& [axis, cells] : axes) {
    PTQAT_CHECK(cells % total_stride == 0 && cells % factor == 0, ConfigError,
                "model.backbone_strides: expected the pillar grid ({} cells along {}) divisible "
                "by the backbone's total stride {} and the out_size_factor {}",
                cells, axis, total_stride, factor);
  }
  config.class_groups();  // throws for bad names

  PTQAT_CHECK(config.loss.code_weights.size() == kBoxCodeSize, ConfigError,
              "model.loss.code_weights: expected {} values, got {}", kBoxCodeSize,
              config.loss.code_weights.size());
  PTQAT_CHECK(config.decode.circle_nms_threshold.size() == datasets::kNumDetectionClasses,
              ConfigError, "model.decode.circle_nms_threshold: expected {} values, got {}",
              datasets::kNumDetectionClasses, config.decode.circle_nms_threshold.size());
  const std::vector<double>& range = config.decode.post_center_range;
  PTQAT_CHECK(
      range.size() == 6 && range[0] < range[3] && range[1] < range[4] && range[2] < range[5],
      ConfigError,
      "model.decode.post_center_range: expected x_min, y_min, z_min, x_max, y_max, z_max "
      "with min < max, got [{}]",
      fmt::join(range, ", "));
}

HeadGrid head_grid(const DetectionModelConfig& config, const datasets::PillarConfig& pillars) {
  const int64_t factor = config.out_size_factor();
  HeadGrid grid;
  grid.x_min = pillars.point_range[0];
  grid.y_min = pillars.point_range[1];
  grid.cell_x = pillars.pillar_size[0] * static_cast<double>(factor);
  grid.cell_y = pillars.pillar_size[1] * static_cast<double>(factor);
  grid.width = pillars.grid_x() / factor;
  grid.height = pillars.grid_y() / factor;
  return grid;
}

}  // namespace ptqat::tasks::detection
