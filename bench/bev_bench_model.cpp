#include "bench/bev_bench_model.h"

#include <fmt/format.h>

#include "core/error.h"

namespace ptqat::bench {

namespace nn = torch::nn;

namespace {

constexpr int64_t kStages = 3;
constexpr int64_t kConvsPerStage = 3;

quant::QConvBn2d conv3x3_bn(int64_t in, int64_t out, int64_t stride) {
  return quant::QConvBn2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false),
                          nn::BatchNorm2dOptions(out));
}

StepBenchModel make_bev(const BevBenchShape& shape) {
  BevBenchNet net(shape);
  const int64_t out_size = shape.size / 2;
  return {net.ptr(),
          [net](const torch::Tensor& x) mutable { return net->forward(x); },
          {shape.batch, shape.in_channels, shape.size, shape.size},
          {shape.batch, shape.classes, out_size, out_size}};
}

}  // namespace

BevBenchNetImpl::BevBenchNetImpl(const BevBenchShape& shape) {
  PTQAT_CHECK(shape.size % 16 == 0, ConfigError,
              "bench model: expected an input size divisible by 16 (three stride-2 stages and a "
              "4x upsample back to size / 2), got {}",
              shape.size);
  int64_t in = shape.in_channels;
  for (int64_t s = 0; s < kStages; ++s) {
    const int64_t channels = shape.stage_channels[s];
    auto list = register_module(fmt::format("stage{}", s + 1), nn::ModuleList());
    for (int64_t i = 0; i < kConvsPerStage; ++i) {
      stages_[s].push_back(conv3x3_bn(i == 0 ? in : channels, channels, i == 0 ? 2 : 1));
      list->push_back(stages_[s].back());
    }
    in = channels;
    // Stage s is at size / 2^(s+1); kernel = stride = 2^s brings it back to size / 2.
    const int64_t factor = int64_t{1} << s;
    upsamples_[s] = register_module(
        fmt::format("up{}", s + 1),
        quant::QConvTransposeBn2d(nn::ConvTranspose2dOptions(channels, shape.up_channels, factor)
                                      .stride(factor)
                                      .bias(false),
                                  nn::BatchNorm2dOptions(shape.up_channels)));
  }
  head_ = register_module("head", conv3x3_bn(kStages * shape.up_channels, shape.head_channels, 1));
  out_ = register_module(
      "out", quant::QConv2d(nn::Conv2dOptions(shape.head_channels, shape.classes, 3).padding(1)));
}

torch::Tensor BevBenchNetImpl::forward(const torch::Tensor& x) {
  // Backbone first, then the upsampling neck (as SECOND + SECONDFPN): the forward order of the
  // quantizable layers is stage1.0 .. stage3.2, up1, up2, up3, head, out.
  std::array<torch::Tensor, kStages> features;
  torch::Tensor y = x;
  for (int64_t s = 0; s < kStages; ++s) {
    for (quant::QConvBn2d& conv : stages_[s]) y = torch::relu(conv(y));
    features[s] = y;
  }
  std::vector<torch::Tensor> upsampled;
  for (int64_t s = 0; s < kStages; ++s) {
    upsampled.push_back(torch::relu(upsamples_[s](features[s])));
  }
  return out_(torch::relu(head_(torch::cat(upsampled, 1))));
}

const std::vector<StepBenchModelEntry>& step_bench_models() {
  static const std::vector<StepBenchModelEntry> models = {
      {"bev",
       "BEV-style conv net, input (2, 64, 128, 128), stages 64/128/256, 14 quantizable layers",
       [] { return make_bev(BevBenchShape{}); }},
      {"tiny-bev", "the bev network scaled down for tests: input (1, 8, 32, 32), stages 8/16/32",
       [] {
         BevBenchShape shape;
         shape.batch = 1;
         shape.in_channels = 8;
         shape.size = 32;
         shape.stage_channels = {8, 16, 32};
         shape.up_channels = 16;
         shape.head_channels = 8;
         shape.classes = 4;
         return make_bev(shape);
       }},
  };
  return models;
}

std::vector<std::string> step_bench_model_names() {
  std::vector<std::string> names;
  for (const StepBenchModelEntry& entry : step_bench_models()) names.push_back(entry.name);
  return names;
}

StepBenchModel make_step_bench_model(const std::string& name) {
  for (const StepBenchModelEntry& entry : step_bench_models()) {
    if (entry.name == name) return entry.make();
  }
  PTQAT_FAIL(ConfigError, "bench step --model: expected one of {}, got '{}'",
             fmt::join(step_bench_model_names(), ", "), name);
}

}  // namespace ptqat::bench
