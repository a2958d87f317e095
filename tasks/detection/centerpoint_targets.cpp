#include "tasks/detection/centerpoint_targets.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"

namespace ptqat::tasks::detection {

double gaussian_radius(double height, double width, double min_overlap) {
  // The three cases of CenterNet (Law & Deng's CornerNet radius): both corners inside, both
  // outside, one of each. The published code divides none of the roots by 2a; CenterPoint and
  // mmdet3d keep that, and so do we (the targets match theirs).
  const double a1 = 1.0;
  const double b1 = height + width;
  const double c1 = width * height * (1.0 - min_overlap) / (1.0 + min_overlap);
  const double r1 = (b1 + std::sqrt(b1 * b1 - 4.0 * a1 * c1)) / 2.0;

  const double a2 = 4.0;
  const double b2 = 2.0 * (height + width);
  const double c2 = (1.0 - min_overlap) * width * height;
  const double r2 = (b2 + std::sqrt(b2 * b2 - 4.0 * a2 * c2)) / 2.0;

  const double a3 = 4.0 * min_overlap;
  const double b3 = -2.0 * min_overlap * (height + width);
  const double c3 = (min_overlap - 1.0) * width * height;
  const double r3 = (b3 + std::sqrt(b3 * b3 - 4.0 * a3 * c3)) / 2.0;
  return std::min({r1, r2, r3});
}

void draw_gaussian(torch::Tensor& heatmap, int64_t x, int64_t y, int64_t radius) {
  PTQAT_ASSERT(heatmap.dim() == 2 && heatmap.scalar_type() == torch::kFloat32 &&
                   heatmap.device().is_cpu() && heatmap.is_contiguous(),
               "draw_gaussian needs a contiguous [H, W] float32 CPU heatmap, got {}",
               fmt::join(heatmap.sizes(), "x"));
  const int64_t height = heatmap.size(0), width = heatmap.size(1);
  const double diameter = 2.0 * static_cast<double>(radius) + 1.0;
  const double sigma = diameter / 6.0;
  // gaussian_2d: exp(-(dx^2 + dy^2) / (2 sigma^2)), zeroed below eps * max (max = 1), with
  // numpy's float64 epsilon, then cast to the heatmap's float32 as torch.from_numpy(...) does.
  const double cut = std::numeric_limits<double>::epsilon();
  auto map = heatmap.accessor<float, 2>();
  const int64_t left = std::min(x, radius), right = std::min(width - x, radius + 1);
  const int64_t top = std::min(y, radius), bottom = std::min(height - y, radius + 1);
  for (int64_t dy = -top; dy < bottom; ++dy) {
    for (int64_t dx = -left; dx < right; ++dx) {
      const double value =
          std::exp(-static_cast<double>(dx * dx + dy * dy) / (2.0 * sigma * sigma));
      const float g = value < cut ? 0.0F : static_cast<float>(value);
      float& cell = map[y + dy][x + dx];
      cell = std::max(cell, g);
    }
  }
}

std::vector<GroupTargets> build_targets(const torch::Tensor& boxes, const torch::Tensor& labels,
                                        const std::vector<std::vector<int>>& class_groups,
                                        const HeadGrid& grid,
                                        const CenterPointTargetConfig& config) {
  PTQAT_ASSERT(boxes.dim() == 3 && boxes.size(2) == 9 && labels.dim() == 2 &&
                   labels.size(0) == boxes.size(0) && labels.size(1) == boxes.size(1),
               "boxes {} and labels {} are not a batch's [B, M, 9] and [B, M]",
               fmt::join(boxes.sizes(), "x"), fmt::join(labels.sizes(), "x"));
  const int64_t batch = boxes.size(0), count = boxes.size(1);
  const int64_t max_objects = config.max_objects;
  const torch::Tensor cpu_boxes = boxes.to(torch::kCPU, torch::kFloat32).contiguous();
  const torch::Tensor cpu_labels = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const auto box = cpu_boxes.accessor<float, 3>();
  const auto label = cpu_labels.accessor<int64_t, 2>();

  // Group and channel of each detection class; -1 when no group holds it.
  std::vector<int> group_of(datasets::kNumDetectionClasses, -1),
      channel_of(datasets::kNumDetectionClasses, -1);
  for (size_t g = 0; g < class_groups.size(); ++g) {
    for (size_t c = 0; c < class_groups[g].size(); ++c) {
      group_of[static_cast<size_t>(class_groups[g][c])] = static_cast<int>(g);
      channel_of[static_cast<size_t>(class_groups[g][c])] = static_cast<int>(c);
    }
  }

  std::vector<GroupTargets> targets;
  for (const std::vector<int>& group : class_groups) {
    GroupTargets t;
    t.heatmap = torch::zeros({batch, static_cast<int64_t>(group.size()), grid.height, grid.width});
    t.boxes = torch::zeros({batch, max_objects, kBoxCodeSize});
    t.indices = torch::zeros({batch, max_objects}, torch::kInt64);
    t.mask = torch::zeros({batch, max_objects}, torch::kBool);
    targets.push_back(std::move(t));
  }

  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> filled(class_groups.size(), 0);
    for (int64_t m = 0; m < count; ++m) {
      const int64_t cls = label[b][m];
      if (cls < 0 || cls >= datasets::kNumDetectionClasses) continue;
      const int g = group_of[static_cast<size_t>(cls)];
      if (g < 0) continue;
      int64_t& k = filled[static_cast<size_t>(g)];
      if (k >= max_objects) continue;
      const auto v = box[b][m];
      // Footprint in head cells: l along x, w along y (the box's axes at yaw 0), as mmdet3d
      // divides dx and dy by the voxel size; the radius is symmetric in the two anyway.
      const double length = v[4] / grid.cell_x, width = v[3] / grid.cell_y;
      if (!(length > 0 && width > 0)) continue;
      const double cx = (v[0] - grid.x_min) / grid.cell_x;
      const double cy = (v[1] - grid.y_min) / grid.cell_y;
      const auto ix = static_cast<int64_t>(std::floor(cx));
      const auto iy = static_cast<int64_t>(std::floor(cy));
      if (ix < 0 || ix >= grid.width || iy < 0 || iy >= grid.height) continue;
      const int64_t radius = std::max<int64_t>(
          config.min_radius,
          static_cast<int64_t>(gaussian_radius(length, width, config.gaussian_overlap)));

      GroupTargets& t = targets[static_cast<size_t>(g)];
      torch::Tensor channel = t.heatmap[b][channel_of[static_cast<size_t>(cls)]];
      draw_gaussian(channel, ix, iy, radius);
      // nuScenes velocities are NaN where the devkit gives none; mmdet3d trains those as 0.
      const float vx = std::isnan(v[7]) ? 0.0F : v[7];
      const float vy = std::isnan(v[8]) ? 0.0F : v[8];
      const float code[kBoxCodeSize] = {static_cast<float>(cx - static_cast<double>(ix)),
                                        static_cast<float>(cy - static_cast<double>(iy)),
                                        v[2],
                                        std::log(v[3]),
                                        std::log(v[4]),
                                        std::log(v[5]),
                                        std::sin(v[6]),
                                        std::cos(v[6]),
                                        vx,
                                        vy};
      auto row = t.boxes.accessor<float, 3>()[b][k];
      for (int64_t i = 0; i < kBoxCodeSize; ++i) row[i] = code[i];
      t.indices.accessor<int64_t, 2>()[b][k] = iy * grid.width + ix;
      t.mask.accessor<bool, 2>()[b][k] = true;
      ++k;
    }
  }

  if (!boxes.device().is_cpu()) {
    for (GroupTargets& t : targets) {
      t.heatmap = t.heatmap.to(boxes.device());
      t.boxes = t.boxes.to(boxes.device());
      t.indices = t.indices.to(boxes.device());
      t.mask = t.mask.to(boxes.device());
    }
  }
  return targets;
}

}  // namespace ptqat::tasks::detection
