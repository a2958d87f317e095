#include "quant/sync_batch_norm.h"

#include "core/error.h"

namespace ptqat::quant {
namespace {

thread_local core::Collective* scope_group = nullptr;

/// Dimensions reduced over: every dimension but the channels (1).
std::vector<int64_t> reduced_dims(const torch::Tensor& x) {
  std::vector<int64_t> dims = {0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

/// [C] as [1, C, 1, ...] for broadcasting against x.
torch::Tensor per_channel(const torch::Tensor& values, const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = values.size(0);
  return values.reshape(shape);
}

/// y = (x - mean) * invstd * weight + bias with the backward of a BatchNorm whose statistics
/// were taken over all ranks: the input gradient needs the global sums of dy and dy * xhat.
class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& mean, const torch::Tensor& invstd,
                               double count, core::Collective* group) {
    const torch::Tensor xhat = (x - per_channel(mean, x)) * per_channel(invstd, x);
    ctx->save_for_backward({xhat, weight, invstd});
    ctx->saved_data["count"] = count;
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group);
    ctx->saved_data["affine"] = weight.defined();
    torch::Tensor y = xhat;
    if (weight.defined()) y = y * per_channel(weight, x) + per_channel(bias, x);
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& xhat = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& invstd = saved[2];
    const double count = ctx->saved_data["count"].toDouble();
    auto* group = reinterpret_cast<core::Collective*>(ctx->saved_data["group"].toInt());
    const torch::Tensor& dy = grads[0];
    const std::vector<int64_t> dims = reduced_dims(xhat);
    const torch::Tensor sum_dy = dy.sum(dims);
    const torch::Tensor sum_dy_xhat = (dy * xhat).sum(dims);
    // Parameter gradients stay local: the gradient averaging over ranks combines them.
    torch::Tensor grad_weight;
    torch::Tensor grad_bias;
    if (ctx->saved_data["affine"].toBool()) {
      grad_weight = sum_dy_xhat.clone();
      grad_bias = sum_dy.clone();
    }
    torch::Tensor sums = torch::cat({sum_dy, sum_dy_xhat}).to(torch::kFloat64).contiguous();
    group->all_reduce_sum(sums);
    const int64_t channels = sum_dy.size(0);
    const torch::Tensor mean_dy = (sums.slice(0, 0, channels) / count).to(dy.scalar_type());
    const torch::Tensor mean_dy_xhat =
        (sums.slice(0, channels, 2 * channels) / count).to(dy.scalar_type());
    torch::Tensor scale = weight.defined() ? weight * invstd : invstd;
    const torch::Tensor dx = per_channel(scale, dy) *
                             (dy - per_channel(mean_dy, dy) - xhat * per_channel(mean_dy_xhat, dy));
    return {dx, grad_weight, grad_bias, torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

SyncBatchNormScope::SyncBatchNormScope(core::Collective& group) {
  PTQAT_ASSERT(scope_group == nullptr, "SyncBatchNormScope inside another");
  scope_group = &group;
}

SyncBatchNormScope::~SyncBatchNormScope() { scope_group = nullptr; }

core::Collective* sync_batch_norm_group() { return scope_group; }

torch::Tensor sync_batch_norm(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, torch::Tensor& running_mean,
                              torch::Tensor& running_var, torch::Tensor& num_batches_tracked,
                              double momentum, double eps, core::Collective& group) {
  PTQAT_CHECK(x.dim() >= 2, InternalError, "sync_batch_norm: expected [N, C, ...], got {} dims",
              x.dim());
  torch::Tensor mean;
  torch::Tensor invstd;
  double count = 0;
  {
    torch::NoGradGuard no_grad;
    // Sums in float64: one all-reduce of [sum, sum of squares, count].
    const torch::Tensor x64 = x.to(torch::kFloat64);
    const std::vector<int64_t> dims = reduced_dims(x);
    const int64_t channels = x.size(1);
    torch::Tensor sums = torch::cat({x64.sum(dims), (x64 * x64).sum(dims),
                                     torch::full({1}, static_cast<double>(x.numel() / channels),
                                                 torch::kFloat64)});
    group.all_reduce_sum(sums);
    count = sums[2 * channels].item<double>();
    PTQAT_CHECK(count > 1, DataError,
                "sync_batch_norm: expected more than 1 value per channel over all ranks, got {}",
                count);
    const torch::Tensor global_mean = sums.slice(0, 0, channels) / count;
    const torch::Tensor variance =
        (sums.slice(0, channels, 2 * channels) / count - global_mean * global_mean).clamp_min(0);
    mean = global_mean.to(x.scalar_type());
    invstd = torch::rsqrt(variance + eps).to(x.scalar_type());
    // Running statistics as torch::nn::BatchNorm keeps them: unbiased variance, momentum or
    // (momentum unset) the cumulative average.
    num_batches_tracked.add_(1);
    const double factor =
        momentum < 0 ? 1.0 / num_batches_tracked.item<double>() : momentum;
    running_mean.mul_(1 - factor).add_(global_mean.to(running_mean.scalar_type()), factor);
    running_var.mul_(1 - factor).add_(
        (variance * (count / (count - 1))).to(running_var.scalar_type()), factor);
  }
  return SyncBatchNormFunction::apply(x, weight, bias, mean, invstd, count, &group);
}

}  // namespace ptqat::quant
