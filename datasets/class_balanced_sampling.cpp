#include "datasets/class_balanced_sampling.h"

#include <random>
#include <set>

#include "core/error.h"

namespace ptqat::datasets {

std::vector<std::vector<int>> sample_detection_classes(const NuScenes& nusc,
                                                       const std::vector<Row>& rows) {
  std::vector<std::vector<int>> classes;
  classes.reserve(rows.size());
  for (const Row row : rows) {
    const SampleBoxes boxes = nusc.lidar_boxes(row);
    std::set<int> present;
    for (int64_t i = 0; i < boxes.size(); ++i) {
      if (boxes.num_lidar_pts[i].item<int64_t>() > 0) present.insert(static_cast<int>(boxes.labels[i].item<int64_t>()));
    }
    classes.emplace_back(present.begin(), present.end());
  }
  return classes;
}

std::vector<Row> class_balanced_rows(const std::vector<Row>& rows,
                                     const std::vector<std::vector<int>>& classes, int num_classes,
                                     uint64_t seed) {
  PTQAT_ASSERT(rows.size() == classes.size(), "{} rows, {} class lists", rows.size(), classes.size());
  std::vector<std::vector<Row>> holders(static_cast<size_t>(num_classes));
  size_t pairs = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const int c : classes[i]) {
      PTQAT_ASSERT(c >= 0 && c < num_classes, "class {} of {}", c, num_classes);
      holders[static_cast<size_t>(c)].push_back(rows[i]);
      ++pairs;
    }
  }
  std::vector<Row> balanced;
  std::mt19937_64 rng(seed);
  const double fraction = 1.0 / num_classes;
  for (const std::vector<Row>& holding : holders) {
    if (holding.empty()) continue;
    const double share = static_cast<double>(holding.size()) / static_cast<double>(pairs);
    const auto draws = static_cast<int64_t>(static_cast<double>(holding.size()) * (fraction / share));
    std::uniform_int_distribution<size_t> pick(0, holding.size() - 1);
    for (int64_t d = 0; d < draws; ++d) balanced.push_back(holding[pick(rng)]);
  }
  return balanced;
}

}  // namespace ptqat::datasets
