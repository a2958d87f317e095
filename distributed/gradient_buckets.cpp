#include "distributed/gradient_buckets.h"

#include <vector>

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
  for (const torch::Tensor& parameter : model.parameters())
    broadcast_tensor(parameter, group, root);
  for (const torch::Tensor& buffer : model.buffers()) {
    if (buffer.numel() > 0) broadcast_tensor(buffer, group, root);
  }
}

namespace {

/// A tensor of `sizes` over `flat`'s storage from element `offset`: an alias, not an autograd
/// view, so that Optimizer::zero_grad may detach_() it (as DDP's gradient_as_bucket_view needs).
torch::Tensor alias_of(const torch::Tensor& flat, int64_t offset, at::IntArrayRef sizes) {
  std::vector<int64_t> strides(sizes.size(), 1);
  for (size_t d = sizes.size(); d-- > 1;) strides[d - 1] = strides[d] * sizes[d];
  torch::Tensor alias = torch::empty({0}, flat.options());
  alias.set_(flat.storage(), flat.storage_offset() + offset, sizes, strides);
  return alias;
}

}  // namespace

GradientBuckets::GradientBuckets(std::vector<torch::Tensor> parameters, core::Collective& group,
                                 int64_t bucket_bytes)
    : parameters_(std::move(parameters)), group_(group) {
  PTQAT_CHECK(bucket_bytes > 0, ConfigError, "gradient bucket size {} bytes (expected > 0)",
              bucket_bytes);
  int64_t open_bytes = 0;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const torch::Tensor& parameter = parameters_[i];
    const int64_t bytes = parameter.numel() * static_cast<int64_t>(parameter.element_size());
    const bool fits =
        !buckets_.empty() && open_bytes + bytes <= bucket_bytes &&
        parameters_[buckets_.back().members.front()].options().type_equal(parameter.options());
    if (!fits) {
      buckets_.emplace_back();
      open_bytes = 0;
    }
    buckets_.back().members.push_back(i);
    open_bytes += bytes;
  }
  // The flags ride in the first float32 bucket (any bucket of a floating dtype counts small
  // integers exactly).
  size_t flags_bucket = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (parameters_[buckets_[b].members.front()].scalar_type() == torch::kFloat32) {
      flags_bucket = b;
      break;
    }
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    Bucket& bucket = buckets_[b];
    int64_t numel = 0;
    for (size_t i : bucket.members) numel += parameters_[i].numel();
    const int64_t flags = b == flags_bucket ? static_cast<int64_t>(parameters_.size()) : 0;
    bucket.flat = torch::zeros({numel + flags}, parameters_[bucket.members.front()].options());
    int64_t offset = 0;
    for (size_t i : bucket.members) {
      bucket.slots.push_back(alias_of(bucket.flat, offset, parameters_[i].sizes()));
      offset += parameters_[i].numel();
    }
    if (flags > 0) used_ = bucket.flat.narrow(0, numel, flags);
  }
}

void GradientBuckets::sum_gradients() {
  torch::NoGradGuard no_grad;
  if (buckets_.empty()) return;
  // Flags built on the host and copied in once: a tensor operation per parameter would cost
  // more than the reduction of a small bucket.
  std::vector<float> flags(parameters_.size(), 0.0F);
  for (Bucket& bucket : buckets_) {
    for (size_t m = 0; m < bucket.members.size(); ++m) {
      const size_t i = bucket.members[m];
      const torch::Tensor& grad = parameters_[i].grad();
      torch::Tensor& slot = bucket.slots[m];
      if (grad.defined()) {
        flags[i] = 1;
        // Backward accumulated into the slot already, unless the gradient was reset.
        if (grad.unsafeGetTensorImpl() != slot.unsafeGetTensorImpl()) slot.copy_(grad);
      } else {
        slot.zero_();
      }
    }
  }
  used_.copy_(torch::from_blob(flags.data(), {static_cast<int64_t>(flags.size())}));
  for (Bucket& bucket : buckets_) group_.all_reduce_sum(bucket.flat);
  // One reduction has brought the flags; a gradient is the slot wherever some rank had one.
  const torch::Tensor used_anywhere = used_.to(torch::kCPU) > 0;
  const bool* used = used_anywhere.data_ptr<bool>();
  for (Bucket& bucket : buckets_) {
    for (size_t m = 0; m < bucket.members.size(); ++m) {
      torch::Tensor parameter = parameters_[bucket.members[m]];
      if (used[bucket.members[m]]) {
        parameter.mutable_grad() = bucket.slots[m];
      } else {
        parameter.mutable_grad() = torch::Tensor();
      }
    }
  }
}

void GradientBuckets::average_gradients() {
  sum_gradients();
  torch::NoGradGuard no_grad;
  const double world = static_cast<double>(group_.world_size());
  for (Bucket& bucket : buckets_) bucket.flat.div_(world);
}

}  // namespace ptqat::distributed
