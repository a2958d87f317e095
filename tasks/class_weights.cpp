#include "tasks/class_weights.h"

#include <fmt/format.h>

#include <vector>

namespace ptqat::tasks {

torch::Tensor inverse_log_weights(const torch::Tensor& counts) {
  const torch::Tensor c = counts.to(torch::kDouble);
  const double total = c.sum().item<double>();
  const torch::Tensor frequency = total > 0 ? c / total : torch::zeros_like(c);
  return (1.0 / torch::log(1.02 + frequency)).to(torch::kFloat32);
}

std::string weights_text(const torch::Tensor& weights) {
  const torch::Tensor values = weights.to(torch::kCPU, torch::kFloat32).contiguous();
  const float* first = values.data_ptr<float>();
  return fmt::format("{}", fmt::join(std::vector<float>(first, first + values.numel()), ", "));
}

}  // namespace ptqat::tasks
