#pragma once
// Class weights for a cross-entropy over imbalanced classes, from label counts: the
// segmentation (lidarseg points) and occupancy (Occ3D voxels) losses share them.

#include <torch/torch.h>

#include <string>

namespace ptqat::tasks {

/// ENet's weighting (Paszke et al. 2016): w_c = 1 / ln(1.02 + f_c), f_c = counts_c / sum(counts),
/// so a rare class weighs up to ~50 and a dominant one ~1.4. `counts` [C] of any numeric dtype;
/// returns [C] float32. All-zero counts give equal weights.
torch::Tensor inverse_log_weights(const torch::Tensor& counts);

/// The weights as "w0, w1, ..." for the log line that reports them.
std::string weights_text(const torch::Tensor& weights);

}  // namespace ptqat::tasks
