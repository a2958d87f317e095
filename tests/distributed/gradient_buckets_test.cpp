// Runs under `mpirun -np 2`: data-parallel gradient averaging against one process.

#include "distributed/gradient_buckets.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "distributed/mpi_communicator.h"

namespace ptqat::distributed {
namespace {

constexpr int kRanks = 2;

/// A small MLP without BatchNorm: per-sample independent, so data parallelism is exact.
struct Mlp : torch::nn::Module {
  Mlp() {
    first = register_module("first", torch::nn::Linear(6, 16));
    second = register_module("second", torch::nn::Linear(16, 3));
    unused = register_module("unused", torch::nn::Linear(2, 2));  // never gets a gradient
  }
  torch::Tensor forward(const torch::Tensor& x) { return second(torch::relu(first(x))); }
  torch::nn::Linear first{nullptr}, second{nullptr}, unused{nullptr};
};

std::vector<torch::Tensor> parameters_of(Mlp& model) { return model.parameters(); }

/// `steps` SGD steps (momentum, weight decay) on `batches[step]` with a per-sample mean loss,
/// gradients averaged by `buckets` when given, as the training loop does: the loss scaled by
/// 1 / ranks, the gradients summed (they live in the buckets after the first step, and the
/// optimizer's zero_grad must work on them).
void train(Mlp& model, const std::vector<std::pair<torch::Tensor, torch::Tensor>>& batches,
           GradientBuckets* buckets) {
  torch::optim::SGD optimizer(model.parameters(),
                              torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3));
  for (const auto& [x, y] : batches) {
    optimizer.zero_grad();
    const torch::Tensor loss = torch::mse_loss(model.forward(x), y);
    if (buckets != nullptr) {
      (loss * buckets->loss_scale()).backward();
      buckets->sum_gradients();
    } else {
      loss.backward();
    }
    optimizer.step();
  }
}

TEST(DataParallel, TwoRanksWithBatchBEqualOneRankWithBatch2B) {
  MpiCommunicator world = MpiCommunicator::world();
  constexpr int64_t kSteps = 6;
  constexpr int64_t kBatch = 4;  // per rank
  // The same data on every rank; rank r takes rows [r * B, (r + 1) * B) of each global batch.
  torch::manual_seed(11);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> global, shard;
  for (int64_t step = 0; step < kSteps; ++step) {
    const torch::Tensor x = torch::randn({kRanks * kBatch, 6});
    const torch::Tensor y = torch::randn({kRanks * kBatch, 3});
    global.emplace_back(x, y);
    shard.emplace_back(x.narrow(0, world.rank() * kBatch, kBatch),
                       y.narrow(0, world.rank() * kBatch, kBatch));
  }

  // Different initialisations per rank: the broadcast must make them rank 0's.
  torch::manual_seed(100 + world.rank());
  Mlp parallel;
  broadcast_module(parallel, world);
  torch::manual_seed(100);
  Mlp reference;  // rank 0's initialisation, trained in one process on the global batches
  for (size_t i = 0; i < parameters_of(reference).size(); ++i) {
    ASSERT_TRUE(torch::equal(parameters_of(reference)[i], parameters_of(parallel)[i]));
  }

  // Small buckets: several all-reduces per step.
  GradientBuckets buckets(parallel.parameters(), world, /*bucket_bytes=*/256);
  EXPECT_GT(buckets.bucket_count(), 2);
  train(parallel, shard, &buckets);
  train(reference, global, nullptr);

  // float32 sums in a different order: agreement to ~1e-6 relative after 6 steps.
  const auto got = parameters_of(parallel);
  const auto want = parameters_of(reference);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(torch::allclose(got[i], want[i], /*rtol=*/1e-5, /*atol=*/1e-6))
        << "parameter " << i << " differs by " << (got[i] - want[i]).abs().max().item<float>();
  }
  // And every rank holds the same bits.
  for (const auto& parameter : got) {
    const torch::Tensor gathered = world.all_gather(parameter.detach().contiguous());
    EXPECT_TRUE(torch::equal(gathered[0], gathered[1]));
  }
}

TEST(DataParallel, AParameterWithoutGradientOnOneRankGetsTheAverage) {
  MpiCommunicator world = MpiCommunicator::world();
  torch::Tensor used = torch::zeros({3}, torch::requires_grad());
  torch::Tensor sometimes = torch::zeros({2}, torch::requires_grad());
  used.mutable_grad() = torch::full({3}, world.rank() + 1.0f);
  if (world.rank() == 1) sometimes.mutable_grad() = torch::full({2}, 4.0f);
  GradientBuckets buckets({used, sometimes}, world);
  EXPECT_EQ(buckets.bucket_count(), 1);
  buckets.average_gradients();
  EXPECT_TRUE(torch::equal(used.grad(), torch::full({3}, 1.5f)));
  ASSERT_TRUE(sometimes.grad().defined());
  EXPECT_TRUE(torch::equal(sometimes.grad(), torch::full({2}, 2.0f)));

  // Unused everywhere: no gradient appears (an optimizer would apply weight decay to a zero one).
  torch::Tensor never = torch::zeros({2}, torch::requires_grad());
  GradientBuckets with_unused({used, never}, world);
  with_unused.average_gradients();
  EXPECT_FALSE(never.grad().defined());
}

TEST(DataParallel, GradientsStayInTheBucketsAcrossZeroGradAndBackward) {
  MpiCommunicator world = MpiCommunicator::world();
  torch::Tensor weight = torch::ones({4}, torch::requires_grad());
  GradientBuckets buckets({weight}, world);
  torch::optim::SGD optimizer({weight}, torch::optim::SGDOptions(0.1));
  for (int step = 0; step < 3; ++step) {
    optimizer.zero_grad();  // detaches and zeroes (1.13) or resets (2.x) the bucket's alias
    ((weight * (world.rank() + 1.0)).sum() * buckets.loss_scale()).backward();
    buckets.sum_gradients();
    // The average of the ranks' gradients 1 and 2.
    EXPECT_TRUE(torch::equal(weight.grad(), torch::full({4}, 1.5f))) << "step " << step;
  }
  // The gradient is the bucket's memory: a second reduction without backward sums it again.
  buckets.sum_gradients();
  EXPECT_TRUE(torch::equal(weight.grad(), torch::full({4}, 3.0f)));
}

TEST(DataParallel, BucketsHoldOneDtypeEach) {
  MpiCommunicator world = MpiCommunicator::world();
  const std::vector<torch::Tensor> parameters = {
      torch::zeros({4}, torch::requires_grad()),
      torch::zeros({4}, torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true)),
      torch::zeros({4}, torch::requires_grad())};
  const GradientBuckets buckets(parameters, world);
  EXPECT_EQ(buckets.bucket_count(), 3);
}

}  // namespace
}  // namespace ptqat::distributed
