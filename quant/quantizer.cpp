#include "quant/quantizer.h"

#include <vector>

#include "core/error.h"
#include "quant/fake_quant.h"

namespace ptqat::quant {

namespace {

void check_channels(const QuantSpec& spec, int64_t channels) {
  PTQAT_ASSERT(channels >= 1, "quantizer: {} channels", channels);
  PTQAT_ASSERT(spec.per_channel || channels == 1, "quantizer: per-tensor spec with {} channels",
               channels);
}

}  // namespace

QuantizerImpl::QuantizerImpl(QuantSpec spec, ObserverKind observer, ObserverOptions options,
                             int64_t channels)
    : spec_(spec), observer_kind_(observer), options_(options) {
  spec_.validate();
  check_channels(spec_, channels);
  // Constructed eagerly so that bad observer options fail here, not in a calibration pass.
  observer_ = std::make_unique<Observer>(spec_, observer_kind_, options_);
  scale_ = register_parameter("scale", torch::ones({channels}), /*requires_grad=*/false);
  zero_point_ = register_buffer("zero_point", torch::zeros({channels}, torch::kInt));
  calibrated_ = register_buffer("calibrated", torch::zeros({}, torch::kBool));
}

void QuantizerImpl::configure(QuantSpec spec, ObserverKind observer, ObserverOptions options,
                              int64_t channels) {
  spec.validate();
  check_channels(spec, channels);
  observer_ = std::make_unique<Observer>(spec, observer, options);
  spec_ = spec;
  observer_kind_ = observer;
  options_ = options;
  torch::NoGradGuard no_grad;
  // set_data keeps the registered tensors (the module's parameter and buffers are the same
  // TensorImpls as these members) while changing their shapes; a stale gradient of the old shape
  // would break the next optimizer step.
  scale_.set_data(torch::ones({channels}, scale_.options()));
  scale_.mutable_grad() = torch::Tensor();
  scale_.set_requires_grad(scale_.requires_grad() && spec_.learnable_scale);
  zero_point_.set_data(torch::zeros({channels}, zero_point_.options()));
  calibrated_.fill_(false);
}

void QuantizerImpl::observe(const torch::Tensor& x) {
  // A second calibration after finish_calibration() starts from fresh statistics.
  if (!observer_) observer_ = std::make_unique<Observer>(spec_, observer_kind_, options_);
  observer_->observe(x.detach());
}

void QuantizerImpl::finish_calibration(core::Collective& group) {
  PTQAT_CHECK(observer_ && observer_->batches_observed() > 0, Error,
              "quantizer: calibration finished before any tensor was observed");
  observer_->reduce(group);
  const QuantParams params = observer_->compute();
  set_params(params.scale, params.zero_point);
  observer_.reset();
}

bool QuantizerImpl::calibrated() const {
  // Every write to the flag bumps its version (fill_, and the set_ of torch::load) and a move to
  // another device replaces its storage, so an unchanged (version, storage) pair means the
  // cached host value is current. This keeps forward() free of a device synchronization.
  const int64_t version = calibrated_._version();
  const void* data = calibrated_.data_ptr();
  if (version != calibrated_version_ || data != calibrated_data_) {
    calibrated_value_ = calibrated_.item<bool>();
    calibrated_version_ = version;
    calibrated_data_ = data;
  }
  return calibrated_value_;
}

torch::Tensor QuantizerImpl::forward(const torch::Tensor& x) {
  PTQAT_CHECK(calibrated(), Error, "quantizer: fake quantization before calibration");
  QuantSpec spec = spec_;
  // LSQ only while the scale is trained (set_trainable): a frozen or PTQ scale is a constant and
  // the straight-through kernel saves a one-byte mask instead of the input.
  spec.learnable_scale = spec_.learnable_scale && scale_.requires_grad();
  return fake_quantize(x, scale_, zero_point_or_undefined(), spec);
}

torch::Tensor QuantizerImpl::forward_fixed(const torch::Tensor& x) {
  PTQAT_CHECK(calibrated(), Error, "quantizer: fake quantization before calibration");
  QuantSpec spec = spec_;
  spec.learnable_scale = false;
  return fake_quantize(x, scale_.detach(), zero_point_or_undefined(), spec);
}

torch::Tensor QuantizerImpl::quantize_to_integers(const torch::Tensor& x) const {
  PTQAT_CHECK(calibrated(), Error, "quantizer: integer codes before calibration");
  torch::NoGradGuard no_grad;
  const torch::Tensor input = x.detach().to(torch::kFloat);
  torch::Tensor scale = scale_.detach().to(input.device(), torch::kFloat);
  torch::Tensor zero_point = zero_point_.to(input.device(), torch::kFloat);
  if (spec_.per_channel) {
    PTQAT_CHECK(spec_.axis < input.dim() && input.size(spec_.axis) == scale.numel(), Error,
                "quantizer: {} channel scales for a tensor of sizes {} (axis {})", scale.numel(),
                c10::str(input.sizes()), spec_.axis);
    std::vector<int64_t> shape(static_cast<size_t>(input.dim()), 1);
    shape[static_cast<size_t>(spec_.axis)] = -1;
    scale = scale.reshape(shape);
    zero_point = zero_point.reshape(shape);
  }
  // The kernel's arithmetic (Note [Fake-quant arithmetic]): multiply by the float reciprocal
  // (reciprocal() divides, so it is 1.0f / scale correctly rounded), round half to even, add the
  // zero point in float, clamp. The kernel clamps NaN to quant_min; so do we.
  torch::Tensor codes = torch::round(input * scale.reciprocal()) + zero_point;
  codes.masked_fill_(codes.isnan(), static_cast<double>(spec_.quant_min()));
  return codes.clamp(static_cast<double>(spec_.quant_min()), static_cast<double>(spec_.quant_max()))
      .to(torch::kInt);
}

void QuantizerImpl::set_params(const torch::Tensor& scale, const torch::Tensor& zero_point) {
  const int64_t channels = scale_.numel();
  PTQAT_CHECK(scale.numel() == channels && zero_point.numel() == channels, Error,
              "quantizer: {} scales and {} zero points for {} channels", scale.numel(),
              zero_point.numel(), channels);
  const torch::Tensor s = scale.detach().to(torch::kCPU, torch::kDouble);
  const torch::Tensor z = zero_point.detach().to(torch::kCPU, torch::kDouble);
  PTQAT_CHECK(s.gt(0).all().item<bool>() && s.isfinite().all().item<bool>(), Error,
              "quantizer: scales must be finite and > 0, got a minimum of {} and a maximum of {}",
              s.min().item<double>(), s.max().item<double>());
  const auto qmin = static_cast<double>(spec_.quant_min());
  const auto qmax = static_cast<double>(spec_.quant_max());
  PTQAT_CHECK(z.eq(z.round()).all().item<bool>() && z.ge(qmin).all().item<bool>() &&
                  z.le(qmax).all().item<bool>() && (!spec_.symmetric || z.eq(0).all().item<bool>()),
              Error,
              "quantizer: zero points must be integers in [{}, {}] (0 when symmetric), got values "
              "from {} to {}",
              qmin, qmax, z.min().item<double>(), z.max().item<double>());
  torch::NoGradGuard no_grad;
  scale_.copy_(s.reshape(scale_.sizes()));
  zero_point_.copy_(z.reshape(zero_point_.sizes()));
  calibrated_.fill_(true);
}

void QuantizerImpl::set_trainable(bool trainable) {
  scale_.set_requires_grad(trainable && spec_.learnable_scale);
}

torch::Tensor QuantizerImpl::zero_point_or_undefined() const {
  // Symmetric grids have zero point 0 by definition; fake_quantize() reads undefined as 0.
  return spec_.symmetric ? torch::Tensor() : zero_point_;
}

}  // namespace ptqat::quant
