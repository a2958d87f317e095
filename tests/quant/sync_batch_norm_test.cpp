#include "quant/sync_batch_norm.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/thread_pair.h"

namespace ptqat::quant {
namespace {

/// One rank's half: forward and backward of a BatchNorm2d on `x` with the loss sum(y * g).
struct Half {
  torch::Tensor x;
  torch::Tensor g;
  torch::nn::BatchNorm2d bn{nullptr};
  torch::Tensor y;

  void run(core::Collective* group) {
    x.requires_grad_(true);
    std::optional<SyncBatchNormScope> scope;
    if (group != nullptr) scope.emplace(*group);
    y = batch_norm(bn, x);
    (y * g).sum().backward();
  }
};

torch::nn::BatchNorm2d make_bn(bool momentum) {
  torch::nn::BatchNorm2dOptions options(3);
  if (!momentum) options.momentum(c10::nullopt);
  torch::nn::BatchNorm2d bn(options);
  torch::manual_seed(7);
  bn->weight.data().uniform_(0.5, 1.5);
  bn->bias.data().uniform_(-0.5, 0.5);
  return bn;
}

TEST(SyncBatchNorm, TwoRanksOfBatchTwoNormalizeAndDifferentiateLikeOneOfBatchFour) {
  for (const bool momentum : {true, false}) {
    torch::manual_seed(3);
    const torch::Tensor x = torch::randn({4, 3, 5, 6}, torch::kFloat64) * 2 + 1;
    const torch::Tensor g = torch::randn({4, 3, 5, 6}, torch::kFloat64);
    Half whole{x.clone(), g, make_bn(momentum), {}};
    whole.bn->to(torch::kFloat64);
    whole.run(nullptr);

    Half rank0{x.slice(0, 0, 2).clone(), g.slice(0, 0, 2), make_bn(momentum), {}};
    Half rank1{x.slice(0, 2, 4).clone(), g.slice(0, 2, 4), make_bn(momentum), {}};
    rank0.bn->to(torch::kFloat64);
    rank1.bn->to(torch::kFloat64);
    ptqat::testing::ThreadPair pair;
    ptqat::testing::ThreadPair::Rank group0(pair, 0);
    ptqat::testing::ThreadPair::Rank group1(pair, 1);
    std::thread worker([&] { rank1.run(&group1); });
    rank0.run(&group0);
    worker.join();

    const auto close = [](const torch::Tensor& a, const torch::Tensor& b) {
      return torch::allclose(a, b, 1e-9, 1e-11);
    };
    EXPECT_TRUE(close(torch::cat({rank0.y, rank1.y}), whole.y));
    EXPECT_TRUE(close(torch::cat({rank0.x.grad(), rank1.x.grad()}), whole.x.grad()));
    // Parameter gradients are local; summed over ranks they are the whole batch's.
    EXPECT_TRUE(close(rank0.bn->weight.grad() + rank1.bn->weight.grad(), whole.bn->weight.grad()));
    EXPECT_TRUE(close(rank0.bn->bias.grad() + rank1.bn->bias.grad(), whole.bn->bias.grad()));
    for (const Half* rank : {&rank0, &rank1}) {
      EXPECT_TRUE(close(rank->bn->running_mean, whole.bn->running_mean)) << momentum;
      EXPECT_TRUE(close(rank->bn->running_var, whole.bn->running_var)) << momentum;
      EXPECT_EQ(rank->bn->num_batches_tracked.item<int64_t>(), 1);
    }
    // Without synchronization each half normalizes with its own statistics: different.
    Half alone{x.slice(0, 0, 2).clone(), g.slice(0, 0, 2), make_bn(momentum), {}};
    alone.bn->to(torch::kFloat64);
    alone.run(nullptr);
    EXPECT_FALSE(close(alone.y, rank0.y));
  }
}

TEST(SyncBatchNorm, OutsideAScopeOrInEvalModeItIsTheModulesOwnForward) {
  torch::nn::BatchNorm2d bn = make_bn(true);
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  EXPECT_EQ(sync_batch_norm_group(), nullptr);
  EXPECT_TRUE(torch::equal(batch_norm(bn, x), make_bn(true)->forward(x)));
  ptqat::testing::ThreadPair pair;
  ptqat::testing::ThreadPair::Rank group(pair, 0);
  SyncBatchNormScope scope(group);
  EXPECT_EQ(sync_batch_norm_group(), &group);
  bn = make_bn(true);  // the forward above moved the running statistics
  bn->eval();
  torch::nn::BatchNorm2d reference = make_bn(true);
  reference->eval();
  // Eval mode needs no peer: with only rank 0 present this would wait forever otherwise.
  EXPECT_TRUE(torch::equal(batch_norm(bn, x), reference->forward(x)));
}

}  // namespace
}  // namespace ptqat::quant
