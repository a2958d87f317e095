#pragma once
// The nuScenes detection submission file (docs/nuscenes.md section 6, "Submission JSON"):
//   {"meta": {"use_camera": b, ...}, "results": {sample_token: [box, ...], ...}}
// read with the devkit's loading checks (load_prediction and the DetectionBox constructor) and
// written so that reading it back gives the same doubles, bit for bit.

#include <nlohmann/json.hpp>
#include <string>

#include "tasks/detection/detection_box.h"

namespace ptqat::tasks::detection {

/// The submission's "meta": which inputs the method used.
struct SubmissionMeta {
  bool use_camera = false;
  bool use_lidar = false;
  bool use_radar = false;
  bool use_map = false;
  bool use_external = false;

  nlohmann::ordered_json to_json() const;
  friend bool operator==(const SubmissionMeta& a, const SubmissionMeta& b) {
    return a.use_camera == b.use_camera && a.use_lidar == b.use_lidar &&
           a.use_radar == b.use_radar && a.use_map == b.use_map && a.use_external == b.use_external;
  }
};

/// A detection submission: meta and the boxes per sample, in the file's key order.
struct Submission {
  SubmissionMeta meta;
  DetectionResults results;
};

/// Reads a submission. Checks, each a one-line DataError naming the file, the sample and the
/// field: 'meta' and 'results' present; keys are sample tokens, each at most once; at most
/// `max_boxes_per_sample` boxes per sample (nothing is truncated); every box has sample_token
/// (equal to its key), translation (3), size (3), rotation (4), velocity (2), detection_name
/// (one of the 10), detection_score and attribute_name (one of the 8 or ""); no NaN in
/// translation, size, rotation or the score. Velocity may be NaN: Python's json writes the bare
/// literal NaN, which is accepted. An optional integer num_pts is kept (0 drops the box in
/// filtering); other keys are ignored, as in the devkit.
Submission read_submission(const std::string& path, int max_boxes_per_sample = 500);

/// Writes a submission (crash-safe: temporary file, then rename). Doubles are printed in
/// shortest round-trip form, a NaN velocity as NaN (as Python writes it; the devkit reads it).
/// num_pts and ego_dist are never written. The boxes must pass the reader's checks, and every
/// number other than a NaN velocity must be finite (JSON cannot hold infinities): DataError
/// naming the file, sample and field otherwise.
void write_submission(const std::string& path, const Submission& submission);

}  // namespace ptqat::tasks::detection
