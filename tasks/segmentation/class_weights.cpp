#include "tasks/segmentation/class_weights.h"

namespace ptqat::tasks::segmentation {

torch::Tensor inverse_log_weights(const torch::Tensor& counts) {
  const torch::Tensor c = counts.to(torch::kDouble);
  const double total = c.sum().item<double>();
  const torch::Tensor frequency = total > 0 ? c / total : torch::zeros_like(c);
  return (1.0 / torch::log(1.02 + frequency)).to(torch::kFloat32);
}

}  // namespace ptqat::tasks::segmentation
