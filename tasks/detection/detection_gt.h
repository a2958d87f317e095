#pragma once
// What the nuScenes detection metric evaluates: the sample set of a split, the ground-truth
// boxes of those samples, and the filters applied to ground truth and predictions alike (the
// devkit's eval/common/loaders.py; docs/nuscenes.md section 6, steps 1 to 3).

#include <string>
#include <vector>

#include "datasets/nuscenes/nuscenes.h"
#include "tasks/detection/detection_box.h"
#include "tasks/detection/detection_config.h"

namespace ptqat::tasks::detection {

/// The samples one evaluation runs on (step 1).
struct EvalSampleSet {
  std::string split;  ///< split name, for messages
  /// An official split: the predictions' samples must EQUAL the set, and predictions are
  /// ranked in their own sample order. Otherwise (a custom split) predictions are sub-selected
  /// by sample, in `samples` order, and extra samples are ignored.
  bool predefined = false;
  std::vector<datasets::Row> samples;  ///< sample rows, in sample.json order
};

/// The devkit's sample set of `split`: an official split name selects its scenes (the version
/// folder must suit it: train/val/train_detect/train_track need *trainval, mini_* need *mini,
/// test needs *test; ConfigError otherwise); any other name is read from
/// `<version>/splits.json` (DataError when absent). Samples keep sample.json order, as load_gt.
EvalSampleSet eval_sample_set(const datasets::NuScenes& index, const std::string& split);

/// A custom sample set of every sample of the version (what the devkit evaluates for a custom
/// split listing every scene).
EvalSampleSet all_samples(const datasets::NuScenes& index, const std::string& name = "all");

/// Whether the samples hold at least one annotation of the 10 detection classes. Without one
/// (v1.0-test, or any split without annotations) the metric is undefined and
/// evaluate_detection() throws; callers check this first to skip metrics.
bool has_detection_ground_truth(const datasets::NuScenes& index, const EvalSampleSet& samples);
/// Same for a split name (resolved with eval_sample_set()).
bool has_detection_ground_truth(const datasets::NuScenes& index, const std::string& split);

/// Step 1 on predictions: for an official split the samples must equal the set (DataError
/// naming a missing or an extra sample); for a custom split the set's samples are picked in
/// set order (DataError naming a missing one). Also applies the submission checks to every box
/// (check_box()), at most `max_boxes_per_sample` per sample, and that each box's sample_token
/// is its entry's sample. Messages start with `source` (a file path, or "predictions").
DetectionResults select_predictions(const datasets::NuScenes& index, const EvalSampleSet& samples,
                                    DetectionResults predictions, int max_boxes_per_sample,
                                    const std::string& source = "predictions");

/// The devkit's DetectionBox checks on one box: a valid class, attribute valid or none, no NaN
/// in translation, size or rotation, a score that is not NaN. DataError starting with `where`
/// and naming the field.
void check_box(const DetectionBox& box, const std::string& where);

/// Step 2: the ground-truth boxes of the samples, in sample order, each sample's annotations
/// in sample.anns order, keeping those whose category maps to a detection class. Velocity is
/// box_velocity()[:2] (may be NaN), num_pts = lidar + radar points, score -1. An annotation
/// with more than one attribute is a DataError.
DetectionResults load_gt(const datasets::NuScenes& index, const EvalSampleSet& samples);

/// Box counts of filter_eval_boxes(), after each stage.
struct FilterCounts {
  size_t total = 0;
  size_t after_range = 0;
  size_t after_points = 0;
  size_t after_bike_rack = 0;  ///< the boxes that are evaluated
};

/// add_center_dist: sets every box's ego_dist, the xy distance from the ego pose of its
/// sample's LIDAR_TOP keyframe. Every sample of `boxes` must be in the dataset.
void add_center_dist(const datasets::NuScenes& index, DetectionResults& boxes);

/// Step 3 (filter_eval_boxes), after add_center_dist(): per sample, keep ego_dist <
/// class_range (strict), drop num_pts == 0, then drop bicycles and motorcycles whose centre lies
/// inside (inclusive) any static_object.bicycle_rack annotation box of the sample.
FilterCounts filter_eval_boxes(const datasets::NuScenes& index, DetectionResults& boxes,
                               const DetectionEvalConfig& config);

}  // namespace ptqat::tasks::detection
