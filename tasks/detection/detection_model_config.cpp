#include "tasks/detection/detection_model_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"

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
  v.section("model", [&] { bev.visit_fields(v); });
  v.section("detection", [&] { DetectionHeadConfig::visit(v); });
}

void DetectionHeadConfig::visit(core::ConfigVisitor& v) {
  v.field({"head_channels", "hidden channels of every head branch", Stage::kFloatTrain},
          head_channels, IntRange{1, kMaxChannels});
  v.field({"task_groups", "task groups, each a comma-separated list of detection class names",
           Stage::kFloatTrain},
          task_groups);
  target.visit(v);
  loss.visit(v);
  decode.visit(v);
}

std::vector<std::vector<int>> DetectionHeadConfig::class_groups() const {
  PTQAT_CHECK(!task_groups.empty(), ConfigError,
              "detection.task_groups: expected at least one task group");
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
                  "detection.task_groups: expected comma-separated detection class names ({}), got "
                  "'{}' in \"{}\"",
                  fmt::join(datasets::kDetectionNames, ", "), name, group);
      PTQAT_CHECK(!seen[static_cast<size_t>(index)], ConfigError,
                  "detection.task_groups: expected each class in one group at most, got '{}' twice",
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
  bev::validate(config.bev, pillars);
  config.class_groups();  // throws for bad names

  PTQAT_CHECK(config.loss.code_weights.size() == kBoxCodeSize, ConfigError,
              "detection.loss.code_weights: expected {} values, got {}", kBoxCodeSize,
              config.loss.code_weights.size());
  PTQAT_CHECK(config.decode.circle_nms_threshold.size() == datasets::kNumDetectionClasses,
              ConfigError, "detection.decode.circle_nms_threshold: expected {} values, got {}",
              datasets::kNumDetectionClasses, config.decode.circle_nms_threshold.size());
  const std::vector<double>& range = config.decode.post_center_range;
  PTQAT_CHECK(
      range.size() == 6 && range[0] < range[3] && range[1] < range[4] && range[2] < range[5],
      ConfigError,
      "detection.decode.post_center_range: expected x_min, y_min, z_min, x_max, y_max, z_max "
      "with min < max, got [{}]",
      fmt::join(range, ", "));
}

}  // namespace ptqat::tasks::detection
