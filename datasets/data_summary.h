#pragma once
// `ptqat data info` and `ptqat data inspect`: what a user checks by eye before training.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace ptqat::datasets {

struct DataInfoOptions {
  std::string dataroot;
  std::string version;
  /// Keyframes whose sensor files are read for point and label statistics (0 = none).
  int64_t max_samples = 40;
  /// Occ3D gts folder relative to the dataroot.
  std::string occupancy_dir = "gts";
};

/// Indexes the version and prints per-table counts, boxes per detection class, points per
/// sweep, lidarseg and Occ3D label histograms of up to `max_samples` keyframes, and the index
/// time. A dataset without sensor files (`data synth --tables-only`) gets the tables only.
void print_data_info(const DataInfoOptions& options, std::ostream& out);

/// Prints a summary of one nuScenes data file: a LiDAR `.pcd.bin` (point count, per-column
/// min/max), a `_lidarseg.bin` (label histogram), an Occ3D `labels.npz` (grid shape, class
/// histogram, mask counts) or any other `.npz` (members with dtype and shape).
void print_data_file_summary(const std::string& path, std::ostream& out);

}  // namespace ptqat::datasets
