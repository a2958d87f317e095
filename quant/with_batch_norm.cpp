#include "quant/with_batch_norm.h"

namespace ptqat::quant {

template class WithBatchNorm<QConv2dImpl, torch::nn::BatchNorm2d, LayerKind::kConvBn2d>;
template class WithBatchNorm<QLinearImpl, torch::nn::BatchNorm1d, LayerKind::kLinearBn1d>;
template class WithBatchNorm<QConvTranspose2dImpl, torch::nn::BatchNorm2d,
                             LayerKind::kConvTransposeBn2d>;

}  // namespace ptqat::quant
