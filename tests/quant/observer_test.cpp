#include "quant/observer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "tests/support/thread_pair.h"
#include "quant/fake_quant.h"
#include "tests/quant/quant_spec_util.h"

namespace ptqat::quant {
namespace {

using test::floats;

/// A default-narrow-range spec, per channel (axis 0) when asked.
QuantSpec make_spec(int64_t bits, bool symmetric, bool is_signed, bool per_channel = false) {
  QuantSpec s = test::grid_spec(bits, symmetric, is_signed, /*narrow_range=*/true);
  s.per_channel = per_channel;
  return s;
}

float quant_mse(const torch::Tensor& x, const QuantParams& p, const QuantSpec& spec) {
  return (fake_quantize(x, p.scale, p.zero_point, spec) - x).pow(2).mean().item<float>();
}

TEST(Observer, MinMaxSymmetricPerTensor) {
  Observer obs(make_spec(8, true, true), ObserverKind::kMinMax);
  obs.observe(floats({-0.5f, 1.0f}));
  obs.observe(floats({2.54f, -3.81f}));
  const QuantParams p = obs.compute();
  ASSERT_EQ(p.scale.sizes(), torch::IntArrayRef({1}));
  EXPECT_EQ(p.scale.scalar_type(), torch::kFloat32);
  EXPECT_EQ(p.zero_point.scalar_type(), torch::kInt32);
  EXPECT_FLOAT_EQ(p.scale.item<float>(), 3.81f / 127.0f);  // max(|min|, |max|) / qmax.
  EXPECT_EQ(p.zero_point.item<int32_t>(), 0);
}

TEST(Observer, MinMaxAsymmetricPerTensor) {
  Observer obs(make_spec(8, false, false), ObserverKind::kMinMax);
  obs.observe(floats({-1.0f, 0.5f, 2.0f}));
  const QuantParams p = obs.compute();
  // (2 - (-1)) / 255; zero point 0 - round(-1 / (3/255)) = round(85) = 85.
  EXPECT_FLOAT_EQ(p.scale.item<float>(), 3.0f / 255.0f);
  EXPECT_EQ(p.zero_point.item<int32_t>(), 85);

  // An all-positive range still includes 0: [0, 5.1] -> scale 0.02, zero point 0.
  Observer positive(make_spec(8, false, false), ObserverKind::kMinMax);
  positive.observe(floats({1.0f, 5.1f}));
  EXPECT_FLOAT_EQ(positive.compute().scale.item<float>(), 5.1f / 255.0f);
  EXPECT_EQ(positive.compute().zero_point.item<int32_t>(), 0);
}

TEST(Observer, MinMaxPerChannelAlongAxis) {
  // Axis 1 ([in, out] as transposed-conv weights): channels are columns.
  QuantSpec spec = make_spec(4, true, true, true);
  spec.axis = 1;
  Observer obs(spec, ObserverKind::kMinMax);
  obs.observe(torch::tensor({{1.0f, -2.0f, 0.0f}, {-7.0f, 0.5f, 0.0f}}));
  const QuantParams p = obs.compute();
  ASSERT_EQ(p.scale.sizes(), torch::IntArrayRef({3}));
  EXPECT_FLOAT_EQ(p.scale[0].item<float>(), 1.0f);         // 7 / 7 (4 bits narrow: qmax 7).
  EXPECT_FLOAT_EQ(p.scale[1].item<float>(), 2.0f / 7.0f);  // 2 / 7.
  EXPECT_GT(p.scale[2].item<float>(), 0.0f);               // All-zero channel.

  Observer asym(make_spec(8, false, true, true), ObserverKind::kMinMax);
  asym.observe(torch::tensor({{-1.0f, 3.0f}, {0.0f, 2.55f}}));
  const QuantParams q = asym.compute();
  // Row 0: 4/255, zp -128 - round(-1 / (4/255)) = -128 + 64 = -64 (63.75 rounds to 64).
  // Row 1: 2.55/255 = 0.01, zp -128.
  EXPECT_FLOAT_EQ(q.scale[0].item<float>(), 4.0f / 255.0f);
  EXPECT_EQ(q.zero_point[0].item<int32_t>(), -64);
  EXPECT_FLOAT_EQ(q.scale[1].item<float>(), 0.01f);
  EXPECT_EQ(q.zero_point[1].item<int32_t>(), -128);
}

TEST(Observer, RunningMinMaxIsEmaOfBatches) {
  ObserverOptions options;
  options.ema_momentum = 0.1;
  Observer obs(make_spec(8, false, false), ObserverKind::kRunningMinMax, options);
  obs.observe(floats({-1.0f, 2.0f}));  // Initialises: [-1, 2].
  obs.observe(floats({-3.0f, 4.0f}));  // min -1 + 0.1 * (-2) = -1.2, max 2 + 0.1 * 2 = 2.2.
  const QuantParams p = obs.compute();
  EXPECT_FLOAT_EQ(p.scale.item<float>(), 3.4f / 255.0f);
  EXPECT_EQ(p.zero_point.item<int32_t>(), 90);  // round(1.2 / (3.4/255)) = round(90.0).
}

TEST(Observer, PercentileClipsOutlier) {
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({100000});
  x[1234] = 1000.0f;
  Observer minmax(make_spec(8, true, true), ObserverKind::kMinMax);
  Observer percentile(make_spec(8, true, true), ObserverKind::kPercentile);
  minmax.observe(x);
  percentile.observe(x);
  const float s_minmax = minmax.compute().scale.item<float>();
  const float s_pct = percentile.compute().scale.item<float>();
  EXPECT_FLOAT_EQ(s_minmax, 1000.0f / 127.0f);
  // The 99.99th percentile of |N(0, 1)| is about 3.9; bins are 0.5 wide here.
  EXPECT_GT(s_pct * 127.0f, 3.0f);
  EXPECT_LT(s_pct * 127.0f, 5.0f);

  Observer asym(make_spec(8, false, false), ObserverKind::kPercentile);
  asym.observe(x);
  EXPECT_LT(asym.compute().scale.item<float>() * 255.0f, 10.0f);
}

TEST(Observer, MseNeverWorseThanMinMax) {
  torch::manual_seed(1);
  const int64_t n = 20000;
  const torch::Tensor normal = torch::randn({n});
  const torch::Tensor uniform = torch::rand({n}) * 4.0 - 1.0;
  const torch::Tensor laplace =
      -torch::log(torch::rand({n}).clamp_min(1e-7)) * torch::sign(torch::randn({n}));
  // Student t with 2 degrees of freedom: heavy tails.
  const torch::Tensor student =
      torch::randn({n}) / torch::sqrt(torch::randn({n, 2}).pow(2).sum(1) / 2.0);
  const torch::Tensor relu = torch::relu(torch::randn({n}));
  const std::vector<std::pair<std::string, torch::Tensor>> data{{"normal", normal},
                                                                {"uniform", uniform},
                                                                {"laplace", laplace},
                                                                {"student", student},
                                                                {"relu", relu}};
  for (const int64_t bits : {4, 8}) {
    for (const bool symmetric : {true, false}) {
      const QuantSpec spec = make_spec(bits, symmetric, true);
      for (const auto& [name, x] : data) {
        Observer minmax(spec, ObserverKind::kMinMax);
        Observer mse(spec, ObserverKind::kMse);
        for (const auto& half : x.chunk(2)) {
          minmax.observe(half);
          mse.observe(half);
        }
        const float e_minmax = quant_mse(x, minmax.compute(), spec);
        const float e_mse = quant_mse(x, mse.compute(), spec);
        EXPECT_LE(e_mse, e_minmax) << name << " bits " << bits << " symmetric " << symmetric;
        // At 4 bits clipping must win clearly on long tails (about 2x here), or the search is
        // not searching.
        if (bits == 4 && (name == "laplace" || name == "normal")) {
          EXPECT_LT(e_mse, 0.6f * e_minmax) << name << " symmetric " << symmetric;
        }
      }
    }
  }
  // Per channel: each channel's own search, each no worse than min-max on that channel.
  const QuantSpec spec = make_spec(4, true, true, true);
  const torch::Tensor w = torch::stack({normal, laplace * 3.0, student * 0.1});
  Observer minmax(spec, ObserverKind::kMinMax);
  Observer mse(spec, ObserverKind::kMse);
  minmax.observe(w);
  mse.observe(w);
  const QuantParams p_minmax = minmax.compute();
  const QuantParams p_mse = mse.compute();
  for (int64_t c = 0; c < 3; ++c) {
    const QuantSpec one = make_spec(4, true, true);
    const float e_minmax = quant_mse(w[c], {p_minmax.scale.slice(0, c, c + 1), {}}, one);
    const float e_mse = quant_mse(w[c], {p_mse.scale.slice(0, c, c + 1), {}}, one);
    EXPECT_LE(e_mse, e_minmax) << "channel " << c;
  }
}

TEST(Observer, ZeroRangeGivesFinitePositiveScale) {
  for (const ObserverKind kind : {ObserverKind::kMinMax, ObserverKind::kRunningMinMax,
                                  ObserverKind::kPercentile, ObserverKind::kMse}) {
    for (const bool symmetric : {true, false}) {
      Observer obs(make_spec(8, symmetric, true), kind);
      obs.observe(torch::zeros({16}));
      const QuantParams p = obs.compute();
      const float s = p.scale.item<float>();
      EXPECT_TRUE(std::isfinite(s) && s > 0.0f) << static_cast<int>(kind);
      EXPECT_TRUE(std::isfinite(1.0f / s));
      const torch::Tensor out =
          fake_quantize(torch::zeros({16}), p.scale, p.zero_point, make_spec(8, symmetric, true));
      EXPECT_TRUE(torch::equal(out, torch::zeros({16})));
    }
  }
}

TEST(Observer, RejectsBadInputs) {
  ObserverOptions bad;
  bad.histogram_bins = 7;
  EXPECT_THROW(Observer(make_spec(8, true, true), ObserverKind::kMse, bad), ConfigError);
  Observer obs(make_spec(8, true, true), ObserverKind::kMinMax);
  EXPECT_THROW(obs.compute(), Error);
  EXPECT_THROW(obs.observe(floats({1.0f, NAN})), DataError);
}

TEST(Observer, SingleProcessReduceLeavesResultsUnchanged) {
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({4, 500}) * torch::tensor({{1.0f}, {2.0f}, {0.1f}, {5.0f}});
  for (const ObserverKind kind : {ObserverKind::kMinMax, ObserverKind::kRunningMinMax,
                                  ObserverKind::kPercentile, ObserverKind::kMse}) {
    Observer obs(make_spec(8, false, true, true), kind);
    obs.observe(x);
    obs.observe(x * 1.5);
    const QuantParams before = obs.compute();
    core::SingleProcessCollective single;
    obs.reduce(single);
    const QuantParams after = obs.compute();
    EXPECT_TRUE(torch::equal(before.scale, after.scale)) << static_cast<int>(kind);
    EXPECT_TRUE(torch::equal(before.zero_point, after.zero_point)) << static_cast<int>(kind);
  }
}

// Records the collective calls and leaves the tensors as they are.
class RecordingCollective final : public core::Collective {
 public:
  std::vector<std::pair<std::string, std::vector<int64_t>>> calls;
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(const torch::Tensor& t) override { record("sum", t); }
  void all_reduce_max(const torch::Tensor& t) override { record("max", t); }
  void broadcast(const torch::Tensor& t, int) override { record("broadcast", t); }
  void barrier() override {}
  std::vector<std::string> all_gather_bytes(const std::string& bytes) override { return {bytes}; }

 private:
  void record(const std::string& op, const torch::Tensor& t) {
    EXPECT_EQ(t.scalar_type(), torch::kFloat64);
    EXPECT_TRUE(t.is_contiguous());
    calls.emplace_back(op, t.sizes().vec());
  }
};

TEST(Observer, ReduceCallsMaxOfRangesThenSumOfHistograms) {
  ObserverOptions options;
  options.histogram_bins = 64;
  Observer hist(make_spec(8, true, true, true), ObserverKind::kPercentile, options);
  hist.observe(torch::randn({3, 10}));
  RecordingCollective rec;
  hist.reduce(rec);
  using Calls = std::vector<std::pair<std::string, std::vector<int64_t>>>;
  EXPECT_EQ(rec.calls, (Calls{{"max", {2, 3}}, {"sum", {3, 64}}}));

  Observer minmax(make_spec(8, true, true), ObserverKind::kMinMax);
  minmax.observe(torch::randn({10}));
  RecordingCollective rec2;
  minmax.reduce(rec2);
  EXPECT_EQ(rec2.calls, (Calls{{"max", {2, 1}}}));
}


TEST(Observer, TwoRankReduceEqualsOneObserverOnAllData) {
  torch::manual_seed(3);
  // Rank 1 sees a much wider range, so rank 0 must re-bin before the histograms are summed.
  const torch::Tensor part0 = torch::randn({2, 3, 400});
  const torch::Tensor part1 = torch::randn({2, 3, 400}) * 37.0 + 1.0;
  for (const ObserverKind kind :
       {ObserverKind::kMinMax, ObserverKind::kPercentile, ObserverKind::kMse}) {
    for (const bool per_channel : {false, true}) {
      for (const bool symmetric : {true, false}) {
        QuantSpec spec = make_spec(6, symmetric, true, per_channel);
        spec.axis = 1;
        ObserverOptions options;
        options.percentile = 99.0;
        Observer all(spec, kind, options);
        all.observe(part1);
        all.observe(part0);
        Observer rank0(spec, kind, options);
        Observer rank1(spec, kind, options);
        rank0.observe(part0);
        rank1.observe(part1);
        testing::ThreadPair pair;
        testing::ThreadPair::Rank group0(pair, 0);
        testing::ThreadPair::Rank group1(pair, 1);
        std::thread worker([&] { rank1.reduce(group1); });
        rank0.reduce(group0);
        worker.join();
        const QuantParams expected = all.compute();
        for (const Observer* obs : {&rank0, &rank1}) {
          const QuantParams got = obs->compute();
          EXPECT_TRUE(torch::equal(got.scale, expected.scale))
              << static_cast<int>(kind) << " per_channel " << per_channel << " symmetric "
              << symmetric << ": " << got.scale << " vs " << expected.scale;
          EXPECT_TRUE(torch::equal(got.zero_point, expected.zero_point));
          if (all.histogram().defined()) {
            EXPECT_TRUE(torch::equal(obs->histogram(), all.histogram()));
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace ptqat::quant
