#include "distributed/gradient_buckets.h"

#include "core/error.h"

namespace ptqat::distributed {

namespace {

/// Broadcasts `tensor` in place, through a contiguous copy when it is not contiguous.
void broadcast_tensor(const torch::Tensor& tensor, core::Collective& group, int root) {
  if (tensor.is_contiguous()) {
    group.broadcast(tensor, root);
    return;
  }
  const torch::Tensor copy = tensor.contiguous();
  group.broadcast(copy, root);
  tensor.copy_(copy);
}

}  // namespace

void broadcast_module(torch::nn::Module& model, core::Collective& group, int root) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& parameter : model.parameters()) broadcast_tensor(parameter, group, root);
  for (const torch::Tensor& buffer : model.buffers()) {
    if (buffer.numel() > 0) broadcast_tensor(buffer, group, root);
  }
}

GradientBuckets::GradientBuckets(std::vector<torch::Tensor> parameters, core::Collective& group,
                                 int64_t bucket_bytes)
    : parameters_(std::move(parameters)), group_(group) {
  PTQAT_CHECK(bucket_bytes > 0, ConfigError, "gradient bucket size {} bytes (expected > 0)",
              bucket_bytes);
  int64_t open_bytes = 0;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const torch::Tensor& parameter = parameters_[i];
    const int64_t bytes = parameter.numel() * static_cast<int64_t>(parameter.element_size());
    const bool fits = !buckets_.empty() && open_bytes + bytes <= bucket_bytes &&
                      parameters_[buckets_.back().members.front()].options().type_equal(
                          parameter.options());
    if (!fits) {
      buckets_.emplace_back();
      open_bytes = 0;
    }
    buckets_.back().members.push_back(i);
    open_bytes += bytes;
  }
  for (Bucket& bucket : buckets_) {
    int64_t numel = 0;
    for (size_t i : bucket.members) numel += parameters_[i].numel();
    bucket.flat = torch::empty({numel}, parameters_[bucket.members.front()].options());
  }
}

void GradientBuckets::average_gradients() {
  torch::NoGradGuard no_grad;
  const double world = static_cast<double>(group_.world_size());
  // Which parameters have a gradient on some rank. One that has none anywhere keeps none, as in
  // a single process: optimizers skip it (a zero gradient would still apply weight decay).
  const torch::Tensor has_gradient = torch::empty({static_cast<int64_t>(parameters_.size())},
                                                  torch::kUInt8);
  auto* used_anywhere = has_gradient.data_ptr<uint8_t>();
  for (size_t i = 0; i < parameters_.size(); ++i) {
    used_anywhere[i] = parameters_[i].grad().defined() ? 1 : 0;
  }
  group_.all_reduce_max(has_gradient);
  for (Bucket& bucket : buckets_) {
    int64_t offset = 0;
    for (size_t i : bucket.members) {
      const torch::Tensor& parameter = parameters_[i];
      torch::Tensor slice = bucket.flat.narrow(0, offset, parameter.numel());
      if (parameter.grad().defined()) {
        slice.copy_(parameter.grad().reshape({-1}));
      } else {
        slice.zero_();
      }
      offset += parameter.numel();
    }
    group_.all_reduce_sum(bucket.flat);
    bucket.flat.div_(world);
    offset = 0;
    for (size_t i : bucket.members) {
      torch::Tensor parameter = parameters_[i];
      const torch::Tensor average =
          bucket.flat.narrow(0, offset, parameter.numel()).view(parameter.sizes());
      if (parameter.grad().defined()) {
        parameter.mutable_grad().copy_(average);
      } else if (used_anywhere[i] != 0) {
        parameter.mutable_grad() = average.clone();
      }
      offset += parameter.numel();
    }
  }
}

}  // namespace ptqat::distributed
