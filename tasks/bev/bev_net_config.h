#pragma once
// The configuration of the bird's-eye-view network every task shares (fields of section
// "model"): PointPillars' pillar feature net, then a BEV encoder, either SECOND + SECOND-FPN
// (a CNN) or a windowed Transformer, then a shared conv3x3. Each task puts its own head on the
// shared features. Defaults are mmdet3d's centerpoint_02pillar_second_secfpn_nus sizes; its
// layout also needs neck_conv_for_no_stride = true (configs/detection/full.toml sets it).

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "datasets/pillars.h"

namespace ptqat::tasks::bev {

/// The Transformer BEV encoder (section "model.transformer"): a patch embedding, then blocks of
/// windowed multi-head self-attention and an MLP over the BEV tokens (Swin-style, with every
/// other block's windows shifted by half a window).
struct WindowTransformerConfig {
  /// Pillar cells per token along x and y: the patch embedding's kernel and stride.
  int64_t patch_size = 4;
  int64_t embed_dim = 64;  ///< channels of a token
  int64_t depth = 4;       ///< attention + MLP blocks
  int64_t heads = 4;       ///< attention heads; embed_dim must be divisible by it
  int64_t window = 8;      ///< tokens per window side
  double mlp_ratio = 2.0;  ///< hidden width of the MLP / embed_dim
  bool shift = true;       ///< shift every other block's windows by window / 2

  void visit(core::ConfigVisitor& v);
};

struct BevNetConfig {
  /// Output channels of the pillar feature net's layers (QLinear + BatchNorm1d + ReLU each).
  std::vector<int64_t> pfn_channels = {64};
  /// "second": SECOND backbone + SECOND-FPN neck; "transformer": WindowTransformerConfig.
  std::string encoder = "second";
  /// Per backbone stage: conv3x3 layers after the stage's first (strided) conv3x3.
  std::vector<int64_t> backbone_layers = {3, 5, 5};
  /// Per backbone stage: stride of its first conv3x3.
  std::vector<int64_t> backbone_strides = {2, 2, 2};
  /// Per backbone stage: output channels.
  std::vector<int64_t> backbone_channels = {64, 128, 256};
  /// Per backbone stage: the neck's resampling factor to the common resolution: >= 1 a
  /// transposed conv with kernel = stride (an integer), < 1 a conv with kernel = stride =
  /// 1 / factor (an integer), as mmdet3d's SECONDFPN.
  std::vector<double> upsample_strides = {0.5, 1.0, 2.0};
  /// A neck factor of 1 as a 1x1 conv + BN (true, mmdet3d's use_conv_for_no_stride, as its
  /// CenterPoint configs) or a 1x1 transposed conv + BN (false, SECONDFPN's default).
  bool neck_conv_for_no_stride = false;
  /// Per backbone stage: output channels of its neck branch; the branches are concatenated.
  std::vector<int64_t> upsample_channels = {128, 128, 128};
  /// Output channels of the shared conv3x3 after the encoder: what the task heads see.
  int64_t shared_channels = 64;
  double bn_eps = 1e-3;       ///< epsilon of every BatchNorm
  double bn_momentum = 0.01;  ///< momentum of every BatchNorm's running statistics
  WindowTransformerConfig transformer;

  /// Visits the fields inside the caller's section ("model").
  void visit_fields(core::ConfigVisitor& v);

  /// Pillar cells per feature cell along x and y: for "second" a stage's backbone stride
  /// divided by its upsample stride (the same for every stage once validated; 4 for the
  /// defaults), for "transformer" the patch size.
  int64_t out_size_factor() const;
};

/// Checks what the per-field ranges cannot, for a network on the `pillars` grid: list lengths,
/// integral resampling factors, one common neck resolution, a grid divisible by the encoder's
/// strides, heads dividing the embedding. Throws ConfigError naming the key
/// ("model.upsample_strides: expected ..., got ..."). Also validates `pillars`.
void validate(const BevNetConfig& config, const datasets::PillarConfig& pillars);

/// The cells of the shared BEV features in the LiDAR (or ego) frame. Cell (iy, ix) is the cell
/// whose lower corner is (x_min + ix * cell_x, y_min + iy * cell_y).
struct BevGrid {
  double x_min = 0, y_min = 0;    ///< lower corner of the point range (m)
  double cell_x = 0, cell_y = 0;  ///< extent of one cell (m): pillar size * out_size_factor
  int64_t width = 0, height = 0;  ///< cells along x and y
};

/// The feature grid of a validated config on `pillars`.
BevGrid bev_grid(const BevNetConfig& config, const datasets::PillarConfig& pillars);

}  // namespace ptqat::tasks::bev
