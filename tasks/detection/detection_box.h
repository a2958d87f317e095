#pragma once
// A box as the nuScenes detection metric sees it (the devkit's eval/detection/data_classes.py
// DetectionBox): global frame, one per ground-truth annotation or per prediction; and the
// per-sample container that both travel in (the devkit's EvalBoxes).

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "datasets/geometry.h"
#include "datasets/nuscenes/nuscenes_tables.h"
#include "datasets/nuscenes/token.h"

namespace ptqat::tasks::detection {

using datasets::Quat;
using datasets::Token;
using datasets::Vec3;

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// One box in the global frame, as in a nuScenes submission (docs/nuscenes.md section 6). Plain data.
struct DetectionBox {
  Token sample_token;                          ///< the keyframe the box belongs to
  Vec3 translation{};                          ///< global box centre x, y, z (m)
  Vec3 size{};                                 ///< w, l, h (m); length lies along the box x axis
  Quat rotation{1, 0, 0, 0};                   ///< global orientation, w, x, y, z
  std::array<double, 2> velocity{kNaN, kNaN};  ///< global vx, vy (m/s); NaN = unknown
  int detection_class = -1;                    ///< index in datasets::kDetectionNames
  double score = -1.0;  ///< detection_score; ground truth carries -1 as in the devkit
  int attribute = -1;   ///< index in datasets::kAttributeNames; -1 = "" (no attribute)
  /// Ground truth: num_lidar_pts + num_radar_pts. Predictions: -1 (a submission's optional
  /// num_pts is honoured: 0 drops the box in filtering).
  int64_t num_pts = -1;
  double ego_dist = kNaN;  ///< xy distance (m) to the ego pose of the sample's LIDAR_TOP keyframe
  datasets::Row annotation = datasets::kNoRow;  ///< ground truth: its sample_annotation row

  /// "car", ..., or "" for an invalid class index.
  std::string_view detection_name() const;
  /// "vehicle.moving", ..., or "" when the box has no attribute.
  std::string_view attribute_name() const;
};

/// Index of a detection name in datasets::kDetectionNames, or -1.
int detection_class_index(std::string_view name);

/// Boxes per sample, kept in insertion order. The order is observable: the devkit gathers the
/// predictions of a class sample by sample in this order, and equal scores are ranked by it.
/// Not thread-safe for writes.
class DetectionResults {
 public:
  using Entry = std::pair<Token, std::vector<DetectionBox>>;

  /// Appends a sample with its boxes (possibly none). Adding a sample twice is a DataError.
  void add(const Token& sample, std::vector<DetectionBox> boxes);
  /// Boxes of `sample`, or nullptr when it has no entry.
  const std::vector<DetectionBox>* find(const Token& sample) const;
  /// Position of `sample` in entries(), or -1.
  int64_t position(const Token& sample) const;

  const std::vector<Entry>& entries() const { return entries_; }
  /// Boxes of the entry at `position` (for filtering in place).
  std::vector<DetectionBox>& boxes_at(size_t position) { return entries_[position].second; }
  /// Moves the entries out, leaving this empty.
  std::vector<Entry> release();

  size_t num_samples() const { return entries_.size(); }
  size_t num_boxes() const;

 private:
  std::vector<Entry> entries_;
  std::unordered_map<Token, size_t, datasets::TokenHash> positions_;
};

}  // namespace ptqat::tasks::detection
