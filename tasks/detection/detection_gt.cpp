#include "tasks/detection/detection_gt.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_set>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"
#include "datasets/geometry.h"

namespace ptqat::tasks::detection {

namespace {

using datasets::Row;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// loaders.py load_gt: the version suffix an official split needs.
std::string required_version_suffix(const std::string& split) {
  if (split == "mini_train" || split == "mini_val") return "mini";
  if (split == "test") return "test";
  return "trainval";  // train, val, train_detect, train_track
}

const int kBicycle = detection_class_index("bicycle");
const int kMotorcycle = detection_class_index("motorcycle");

}  // namespace

EvalSampleSet eval_sample_set(const datasets::NuScenes& index, const std::string& split) {
  EvalSampleSet set;
  set.split = split;
  set.predefined = datasets::official_splits().count(split) > 0;
  if (set.predefined) {
    const std::string suffix = required_version_suffix(split);
    PTQAT_CHECK(ends_with(index.version(), suffix), ConfigError,
                "detection eval: split '{}' needs a *{} version, got version '{}'", split, suffix,
                index.version());
  }
  const std::vector<std::string> names = index.split_scene_names(split);
  const std::set<std::string> scenes(names.begin(), names.end());
  const auto& tables = index.tables();
  for (size_t row = 0; row < tables.sample.size(); ++row) {
    if (scenes.count(tables.scene[tables.sample[row].scene].name)) {
      set.samples.push_back(static_cast<Row>(row));
    }
  }
  return set;
}

EvalSampleSet all_samples(const datasets::NuScenes& index, const std::string& name) {
  EvalSampleSet set;
  set.split = name;
  for (size_t row = 0; row < index.tables().sample.size(); ++row) {
    set.samples.push_back(static_cast<Row>(row));
  }
  return set;
}

bool has_detection_ground_truth(const datasets::NuScenes& index, const EvalSampleSet& samples) {
  for (const Row sample : samples.samples) {
    for (const Row annotation : index.tables().sample[sample].annotations) {
      if (datasets::detection_class_of(index.category_name(annotation)) >= 0) return true;
    }
  }
  return false;
}

bool has_detection_ground_truth(const datasets::NuScenes& index, const std::string& split) {
  return has_detection_ground_truth(index, eval_sample_set(index, split));
}

void check_box(const DetectionBox& box, const std::string& where) {
  PTQAT_CHECK(box.detection_class >= 0 && box.detection_class < datasets::kNumDetectionClasses,
              DataError,
              "{}: detection_name: expected one of the 10 detection classes, got index {}", where,
              box.detection_class);
  PTQAT_CHECK(box.attribute >= -1 && box.attribute < datasets::kNumAttributes, DataError,
              "{}: attribute_name: expected one of the 8 attributes or \"\", got index {}", where,
              box.attribute);
  const auto check_no_nan = [&](const double* values, size_t count, const char* field) {
    for (size_t i = 0; i < count; ++i) {
      PTQAT_CHECK(!std::isnan(values[i]), DataError,
                  "{}: {}[{}] is NaN (translation, size and rotation may not be NaN)", where, field,
                  i);
    }
  };
  check_no_nan(box.translation.data(), 3, "translation");
  check_no_nan(box.size.data(), 3, "size");
  check_no_nan(box.rotation.data(), 4, "rotation");
  PTQAT_CHECK(!std::isnan(box.score), DataError, "{}: detection_score is NaN", where);
}

DetectionResults select_predictions(const datasets::NuScenes& index, const EvalSampleSet& samples,
                                    DetectionResults predictions, int max_boxes_per_sample,
                                    const std::string& source) {
  const auto& tables = index.tables();
  std::vector<DetectionResults::Entry> entries = predictions.release();
  std::vector<DetectionResults::Entry> selected;
  if (samples.predefined) {
    // loaders + evaluate.py: every result is loaded; the set of keys must EQUAL the split.
    std::unordered_set<Token, datasets::TokenHash> in_split;
    for (const Row row : samples.samples) in_split.insert(tables.sample[row].token);
    for (const auto& entry : entries) {
      PTQAT_CHECK(in_split.count(entry.first), DataError,
                  "{}: sample {} is not in split '{}' (an official split needs exactly its {} "
                  "samples)",
                  source, entry.first.hex(), samples.split, samples.samples.size());
    }
    if (entries.size() != samples.samples.size()) {
      std::unordered_set<Token, datasets::TokenHash> present;
      for (const auto& entry : entries) present.insert(entry.first);
      for (const Row row : samples.samples) {
        PTQAT_CHECK(present.count(tables.sample[row].token), DataError,
                    "{}: no entry for sample {} of split '{}' ({} of {} samples missing; every "
                    "sample needs a key, [] when it has no boxes)",
                    source, tables.sample[row].token.hex(), samples.split,
                    samples.samples.size() - entries.size(), samples.samples.size());
      }
    }
    selected = std::move(entries);
  } else {
    // The custom-split path picks the split's samples out of the results, in split order.
    std::unordered_map<Token, size_t, datasets::TokenHash> position;
    for (size_t i = 0; i < entries.size(); ++i) position.emplace(entries[i].first, i);
    for (const Row row : samples.samples) {
      const Token& token = tables.sample[row].token;
      const auto it = position.find(token);
      PTQAT_CHECK(it != position.end(), DataError,
                  "{}: no entry for sample {} of split '{}' (every sample needs a key, [] when "
                  "it has no boxes)",
                  source, token.hex(), samples.split);
      selected.push_back(std::move(entries[it->second]));
    }
  }

  DetectionResults out;
  for (auto& [token, boxes] : selected) {
    PTQAT_CHECK(boxes.size() <= static_cast<size_t>(max_boxes_per_sample), DataError,
                "{}: sample {}: {} boxes (at most {} per sample)", source, token.hex(),
                boxes.size(), max_boxes_per_sample);
    for (size_t b = 0; b < boxes.size(); ++b) {
      const std::string where = fmt::format("{}: sample {}: box {}", source, token.hex(), b);
      check_box(boxes[b], where);
      PTQAT_CHECK(boxes[b].sample_token == token, DataError,
                  "{}: sample_token: expected the entry's sample, got {}", where,
                  boxes[b].sample_token.hex());
    }
    out.add(token, std::move(boxes));
  }
  return out;
}

DetectionResults load_gt(const datasets::NuScenes& index, const EvalSampleSet& samples) {
  const auto& tables = index.tables();
  const std::string file = index.dataroot() + "/" + index.version() + "/sample_annotation.json";
  DetectionResults gt;
  for (const Row row : samples.samples) {
    const auto& sample = tables.sample[row];
    std::vector<DetectionBox> boxes;
    for (const Row annotation : sample.annotations) {
      const int detection_class = datasets::detection_class_of(index.category_name(annotation));
      if (detection_class < 0) continue;
      const auto& record = tables.sample_annotation[annotation];
      PTQAT_CHECK(record.attributes.size() <= 1, DataError,
                  "{}: record {}: attribute_tokens: expected at most one attribute, got {}", file,
                  record.token.hex(), record.attributes.size());
      DetectionBox box;
      box.sample_token = sample.token;
      box.translation = record.translation;
      box.size = record.size;
      box.rotation = record.rotation;
      const Eigen::Vector3d velocity = index.box_velocity(annotation);
      box.velocity = {velocity.x(), velocity.y()};
      box.detection_class = detection_class;
      box.score = -1.0;
      if (!record.attributes.empty()) {
        const std::string& name = tables.attribute[record.attributes[0]].name;
        box.attribute = datasets::attribute_index(name);
        PTQAT_CHECK(box.attribute >= 0, DataError,
                    "{}: record {}: attribute '{}' is not one of the 8 nuScenes attributes", file,
                    record.token.hex(), name);
      }
      box.num_pts = record.num_lidar_pts + record.num_radar_pts;
      box.annotation = annotation;
      boxes.push_back(box);
    }
    gt.add(sample.token, std::move(boxes));
  }
  return gt;
}

void add_center_dist(const datasets::NuScenes& index, DetectionResults& boxes) {
  const auto& tables = index.tables();
  for (size_t s = 0; s < boxes.num_samples(); ++s) {
    const Token& token = boxes.entries()[s].first;
    const Row row = index.sample_row(token);
    PTQAT_CHECK(row != datasets::kNoRow, DataError,
                "detection eval: sample {} is not in {}/{}/sample.json", token.hex(),
                index.dataroot(), index.version());
    const Row lidar = tables.sample[row].lidar_top;
    PTQAT_CHECK(lidar != datasets::kNoRow, DataError,
                "detection eval: sample {} has no LIDAR_TOP keyframe (its ego pose places the "
                "boxes)",
                token.hex());
    const auto& pose = tables.ego_pose[tables.sample_data[lidar].ego_pose].translation;
    for (DetectionBox& box : boxes.boxes_at(s)) {
      // DetectionBox.ego_dist: sqrt(sum(ego_translation[:2] ** 2)).
      const double dx = box.translation[0] - pose[0];
      const double dy = box.translation[1] - pose[1];
      box.ego_dist = std::sqrt(dx * dx + dy * dy);
    }
  }
}

FilterCounts filter_eval_boxes(const datasets::NuScenes& index, DetectionResults& boxes,
                               const DetectionEvalConfig& config) {
  const auto& tables = index.tables();
  FilterCounts counts;
  for (size_t s = 0; s < boxes.num_samples(); ++s) {
    std::vector<DetectionBox>& list = boxes.boxes_at(s);
    counts.total += list.size();
    list.erase(
        std::remove_if(list.begin(), list.end(),
                       [&](const DetectionBox& box) {
                         // Strict, and a NaN distance is dropped, as in the devkit.
                         return !(box.ego_dist <
                                  config.class_range[static_cast<size_t>(box.detection_class)]);
                       }),
        list.end());
    counts.after_range += list.size();
    list.erase(std::remove_if(list.begin(), list.end(),
                              [](const DetectionBox& box) { return box.num_pts == 0; }),
               list.end());
    counts.after_points += list.size();

    // Bike racks are the sample's raw annotations, unfiltered.
    const Row row = index.sample_row(boxes.entries()[s].first);
    PTQAT_CHECK(row != datasets::kNoRow, DataError,
                "detection eval: sample {} is not in {}/{}/sample.json",
                boxes.entries()[s].first.hex(), index.dataroot(), index.version());
    std::vector<Row> racks;
    for (const Row annotation : tables.sample[row].annotations) {
      if (index.category_name(annotation) == "static_object.bicycle_rack") {
        racks.push_back(annotation);
      }
    }
    std::vector<size_t> cycles;
    for (size_t b = 0; b < list.size(); ++b) {
      if (list[b].detection_class == kBicycle || list[b].detection_class == kMotorcycle) {
        cycles.push_back(b);
      }
    }
    if (!racks.empty() && !cycles.empty()) {
      // Centres in float64, as the devkit passes them to points_in_box.
      torch::Tensor centres =
          torch::empty({static_cast<int64_t>(cycles.size()), 3}, torch::kFloat64);
      auto accessor = centres.accessor<double, 2>();
      for (size_t i = 0; i < cycles.size(); ++i) {
        for (int k = 0; k < 3; ++k) {
          accessor[static_cast<int64_t>(i)][k] = list[cycles[i]].translation[k];
        }
      }
      torch::Tensor in_rack = torch::zeros({centres.size(0)}, torch::kBool);
      for (const Row rack : racks) {
        const auto& r = tables.sample_annotation[rack];
        in_rack |= datasets::points_in_box(
            centres, Eigen::Vector3d(r.translation[0], r.translation[1], r.translation[2]),
            Eigen::Vector3d(r.size[0], r.size[1], r.size[2]), datasets::to_eigen(r.rotation));
      }
      std::vector<char> drop(list.size(), 0);
      const auto in_rack_accessor = in_rack.accessor<bool, 1>();
      for (size_t i = 0; i < cycles.size(); ++i) {
        drop[cycles[i]] = in_rack_accessor[static_cast<int64_t>(i)] ? 1 : 0;
      }
      std::vector<DetectionBox> kept;
      for (size_t b = 0; b < list.size(); ++b) {
        if (!drop[b]) kept.push_back(list[b]);
      }
      list = std::move(kept);
    }
    counts.after_bike_rack += list.size();
  }
  return counts;
}

}  // namespace ptqat::tasks::detection
