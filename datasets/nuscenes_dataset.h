#pragma once
// The samples of one split, loaded on demand: sweeps, boxes and the labels the config asks for.

#include <memory>
#include <string>
#include <vector>

#include "datasets/data_config.h"
#include "datasets/nuscenes/nuscenes.h"
#include "datasets/sample.h"

namespace ptqat::datasets {

/// `<occupancy_root>/<scene name>/<sample token>/labels.npz`: a sample's Occ3D labels.
std::string occupancy_labels_path(const NuScenes& nusc, const std::string& occupancy_root,
                                  Row sample);

class NuScenesDataset {
 public:
  /// The split's samples of an indexed version. Asking for lidarseg on a version without
  /// lidarseg.json is a DataError.
  NuScenesDataset(std::shared_ptr<const NuScenes> nusc, const std::string& split,
                  DataConfig config);
  /// The given sample rows of the split instead (repeats allowed): a resampled training set
  /// (class_balanced_sampling.h).
  NuScenesDataset(std::shared_ptr<const NuScenes> nusc, const std::string& split,
                  DataConfig config, std::vector<Row> rows);

  int64_t size() const { return static_cast<int64_t>(rows_.size()); }
  /// Loads sample `index` of the split (0 <= index < size()). Thread-safe: only reads files.
  Sample get(int64_t index) const;

  const NuScenes& nusc() const { return *nusc_; }
  const std::string& split() const { return split_; }
  const DataConfig& config() const { return config_; }
  /// Sample rows of the split, in split order.
  const std::vector<Row>& rows() const { return rows_; }

  /// `<occupancy root>/<scene name>/<sample token>/labels.npz` of a sample row.
  std::string occupancy_path(Row sample) const;

 private:
  std::shared_ptr<const NuScenes> nusc_;
  std::string split_;
  DataConfig config_;
  std::vector<Row> rows_;
};

}  // namespace ptqat::datasets
