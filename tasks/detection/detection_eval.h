#pragma once
// The official nuScenes detection metric (the devkit's eval/detection/evaluate.py
// DetectionEval), computed in C++ on an indexed nuScenes version: mAP, the five TP errors and
// NDS, equal to the devkit's float64 numbers on the same inputs (docs/nuscenes.md section 6).
//
// Usage, for a model's predictions held in memory (global frame, one entry per sample of the
// split, [] when a sample has no box):
//   if (has_detection_ground_truth(index, "val")) {
//     DetectionMetrics metrics = evaluate_detection(index, "val", std::move(predictions));
//   }
// and for a submission file on disk: evaluate_submission(index, "val", path).

#include <string>

#include "datasets/nuscenes/nuscenes.h"
#include "tasks/detection/detection_box.h"
#include "tasks/detection/detection_config.h"
#include "tasks/detection/detection_gt.h"
#include "tasks/detection/detection_metrics.h"

namespace ptqat::tasks::detection {

/// Evaluates `predictions` on `samples`: selects the predictions of the sample set (step 1),
/// loads and filters the ground truth and filters the predictions (steps 2, 3), matches each
/// class at each threshold and aggregates (steps 4 to 7).
///
/// Throws DataError when a sample is missing from (or, for an official split, extra in) the
/// predictions, a box fails the submission checks, or the samples hold no ground-truth box of
/// the 10 classes (check has_detection_ground_truth() first); ConfigError for a bad config or a
/// split that does not suit the version.
///
/// Predictions with no box at all give every class "no predictions" (mAP 0, every TP error 1,
/// NDS 0); the devkit raises there instead (filter_eval_boxes reads a first box), which would
/// stop a sweep on an untrained model.
///
/// Single-threaded; the index is only read.
DetectionMetrics evaluate_detection(const datasets::NuScenes& index, const EvalSampleSet& samples,
                                    DetectionResults predictions,
                                    const DetectionEvalConfig& config = {},
                                    const std::string& source = "predictions");

/// evaluate_detection() on the sample set of `split` (eval_sample_set()).
DetectionMetrics evaluate_detection(const datasets::NuScenes& index, const std::string& split,
                                    DetectionResults predictions,
                                    const DetectionEvalConfig& config = {});

/// Reads the submission at `path` (read_submission()) and evaluates it on `split`; the
/// submission's meta is copied into the metrics. Errors name the file.
DetectionMetrics evaluate_submission(const datasets::NuScenes& index, const std::string& split,
                                     const std::string& path,
                                     const DetectionEvalConfig& config = {});

}  // namespace ptqat::tasks::detection
