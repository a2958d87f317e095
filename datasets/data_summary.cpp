#include "datasets/data_summary.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/resources.h"
#include "datasets/nuscenes/categories.h"
#include "datasets/nuscenes/lidarseg_file.h"
#include "datasets/nuscenes/npz.h"
#include "datasets/nuscenes/nuscenes.h"
#include "datasets/nuscenes/nuscenes_tables.h"
#include "datasets/nuscenes/occ3d.h"
#include "datasets/nuscenes/point_cloud_file.h"
#include "datasets/nuscenes_dataset.h"

namespace ptqat::datasets {

namespace {

using datasets::kNoRow;
using datasets::Row;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Label histogram lines "  <value> <name>: <count> (<percent>%)" for non-zero bins.
template <class NameOf>
void print_histogram(const torch::Tensor& labels, int64_t bins, NameOf name_of, std::ostream& out) {
  const auto counts = torch::bincount(labels.flatten().to(torch::kInt64), {}, bins);
  const double total = std::max<double>(1.0, static_cast<double>(labels.numel()));
  for (int64_t value = 0; value < counts.size(0); ++value) {
    const int64_t count = counts[value].item<int64_t>();
    if (count == 0) continue;
    out << fmt::format("  {:>3} {:<40} {:>12} ({:.2f}%)\n", value, name_of(value), count,
                       100.0 * static_cast<double>(count) / total);
  }
}

std::string occ_class_name(int64_t value) {
  if (value == datasets::kOccFreeClass) return "free";
  if (value == 0) return "others";
  return value < datasets::kNumLidarsegClasses ? std::string(datasets::kLidarsegClassNames[value])
                                               : "?";
}

void print_occupancy(const datasets::Occ3dLabels& labels, std::ostream& out) {
  out << fmt::format("grid: {} x {} x {} (0.4 m voxels, ego frame)\n", labels.semantics.size(0),
                     labels.semantics.size(1), labels.semantics.size(2));
  out << fmt::format("mask_lidar: {} observed voxels\nmask_camera: {} visible voxels\n",
                     labels.mask_lidar.sum().item<int64_t>(),
                     labels.mask_camera.sum().item<int64_t>());
  out << "classes:\n";
  print_histogram(labels.semantics, datasets::kOccFreeClass + 1, occ_class_name, out);
}

void print_points(const torch::Tensor& points, std::ostream& out) {
  out << fmt::format("points: {}\n", points.size(0));
  if (points.size(0) == 0) return;
  const char* columns[] = {"x", "y", "z", "intensity", "ring"};
  const auto min = std::get<0>(points.min(0)), max = std::get<0>(points.max(0));
  for (int64_t c = 0; c < points.size(1); ++c) {
    out << fmt::format("  {:<10} min {:>10.3f}  max {:>10.3f}\n", columns[c], min[c].item<float>(),
                       max[c].item<float>());
  }
}

}  // namespace

void print_data_file_summary(const std::string& path, std::ostream& result) {
  PTQAT_CHECK(std::filesystem::is_regular_file(path), IoError, "{}: no such file", path);
  std::ostringstream out;  // printed only once the whole file has been read without error
  if (ends_with(path, "_lidarseg.bin")) {
    const torch::Tensor labels = datasets::read_lidarseg_labels(path, -1);
    out << fmt::format("lidarseg labels: {} (category.json index values)\n", labels.size(0));
    print_histogram(
        labels, 32, [](int64_t) { return ""; }, out);
  } else if (ends_with(path, ".pcd.bin")) {
    print_points(datasets::read_lidar_points(path), out);
  } else if (ends_with(path, ".npz")) {
    const auto arrays = datasets::read_npz(path);
    if (arrays.count("semantics")) {
      print_occupancy(datasets::read_occ3d_labels(path), out);
    } else {
      for (const auto& [name, array] : arrays) {
        out << fmt::format("{}: {} {}\n", name, array.descr, datasets::npy_shape_text(array.shape));
      }
    }
  } else {
    PTQAT_FAIL(ConfigError, "{}: expected a LiDAR .pcd.bin, a _lidarseg.bin or an Occ3D labels.npz",
               path);
  }
  result << "file: " << path << "\n" << out.str();
}

void print_data_info(const DataInfoOptions& options, std::ostream& out) {
  const datasets::NuScenes nusc(options.dataroot, options.version);
  const datasets::Tables& t = nusc.tables();
  out << fmt::format("dataroot: {}\nversion: {}\nindex time: {:.3f} s (peak RSS {:.0f} MiB)\n",
                     options.dataroot, options.version, nusc.index_seconds(),
                     static_cast<double>(core::peak_rss_bytes()) / (1 << 20));
  out << "tables:\n";
  // Every table of the version (lidarseg when the add-on is there).
  for_each_table(t, [&](const char* name, const auto& records) {
    out << fmt::format("  {:<18} {:>10}\n", name, records.size());
  });

  std::vector<int64_t> boxes(datasets::kNumDetectionClasses, 0);
  for (size_t a = 0; a < t.sample_annotation.size(); ++a) {
    const int label = datasets::detection_class_of(nusc.category_name(static_cast<Row>(a)));
    if (label >= 0) ++boxes[label];
  }
  out << "boxes per detection class:\n";
  for (int c = 0; c < datasets::kNumDetectionClasses; ++c) {
    out << fmt::format("  {:<22} {:>10}\n", datasets::kDetectionNames[c], boxes[c]);
  }

  std::vector<Row> keyframes;  // sample rows with a LIDAR_TOP keyframe
  for (size_t s = 0; s < t.sample.size(); ++s) {
    if (t.sample[s].lidar_top != kNoRow) keyframes.push_back(static_cast<Row>(s));
  }
  if (keyframes.empty() || options.max_samples == 0) return;
  if (!std::filesystem::exists(
          nusc.path_of(t.sample_data[t.sample[keyframes[0]].lidar_top].filename))) {
    out << "sensor files: absent (a tables-only dataset); point and label statistics skipped\n";
    return;
  }
  // Spread the inspected keyframes over the whole dataset.
  const auto inspected = std::min<int64_t>(options.max_samples, keyframes.size());
  int64_t points = 0, min_points = std::numeric_limits<int64_t>::max(), max_points = 0;
  std::vector<torch::Tensor> coarse_labels, occupancy;
  for (int64_t i = 0; i < inspected; ++i) {
    const Row sample = keyframes[i * static_cast<int64_t>(keyframes.size()) / inspected];
    const Row data = t.sample[sample].lidar_top;
    const std::string occ_path = options.dataroot + "/" + options.occupancy_dir + "/" +
                                 t.scene[t.sample[sample].scene].name + "/" +
                                 t.sample[sample].token.hex() + "/labels.npz";
    if (std::filesystem::exists(occ_path)) {
      occupancy.push_back(datasets::read_occ3d_labels(occ_path).semantics);
    }
    const int64_t n =
        datasets::read_lidar_points(nusc.path_of(t.sample_data[data].filename)).size(0);
    points += n;
    min_points = std::min(min_points, n);
    max_points = std::max(max_points, n);
    if (const Row seg = nusc.lidarseg_of(data); seg != kNoRow) {
      const auto fine = datasets::read_lidarseg_labels(nusc.path_of(t.lidarseg[seg].filename), n);
      coarse_labels.push_back(nusc.to_challenge_labels(fine));
    }
  }
  out << fmt::format("points per keyframe sweep ({} keyframes read): mean {:.0f}, min {}, max {}\n",
                     inspected, static_cast<double>(points) / static_cast<double>(inspected),
                     min_points, max_points);
  if (!coarse_labels.empty()) {
    out << "lidarseg labels (16 challenge classes, 0 = ignore):\n";
    print_histogram(
        torch::cat(coarse_labels), datasets::kNumLidarsegClasses,
        [](int64_t v) { return std::string(datasets::kLidarsegClassNames[v]); }, out);
  }
  if (!occupancy.empty()) {
    out << fmt::format("Occ3D classes ({} label files):\n", occupancy.size());
    print_histogram(torch::stack(occupancy), datasets::kOccFreeClass + 1, occ_class_name, out);
  }
}

}  // namespace ptqat::datasets
