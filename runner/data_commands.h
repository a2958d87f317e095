#pragma once
// `ptqat data info` and `ptqat data inspect`: what a user checks by eye before training; `ptqat
// data gtdb`: the ground-truth database of GT-paste augmentation.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace ptqat::runner {

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

struct GtDatabaseOptions {
  std::string config_file;  ///< the run config whose data.* (train split, sweeps, frame, lidarseg)
  std::vector<std::string> overrides;
  std::string out;          ///< the database file to write
  int64_t min_points = 5;   ///< objects with fewer points inside their box are left out
};

/// Builds the database of the config's training split and writes it; prints objects per class.
void build_gt_database_command(const GtDatabaseOptions& options, std::ostream& out);

}  // namespace ptqat::runner
