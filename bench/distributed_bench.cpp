// Distributed benchmarks, side by side in one run under `mpirun -np 2` (docs/distributed.md):
//
// 1. All-reduce bus bandwidth of GradientBuckets::sum_gradients() (what training calls, its loss
//    scaled by 1 / ranks) over many gradient tensors against one all-reduce of the same bytes in
//    one flat tensor (a single MPI call).
// 2. Data-parallel efficiency: training samples/s of the "bev" step-benchmark network on 2 ranks
//    x 1 thread against 1 rank x 1 thread (rank 0 alone, the other rank waiting).
//
// Not Google Benchmark: its iteration counts are chosen per process, and every rank must make
// the same collective calls. Each figure is the slowest rank's time of a fixed repeat count
// after a warmup.
//
//   mpirun -np 2 build/bench/distributed_bench [--steps 20] [--model bev]

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "bench/bev_bench_model.h"
#include "core/resources.h"
#include "distributed/gradient_buckets.h"
#include "distributed/mpi_communicator.h"
#include "distributed/mpi_world.h"

namespace {

using ptqat::distributed::MpiCommunicator;

double slowest(double seconds, MpiCommunicator& world) {
  const torch::Tensor t = torch::tensor({seconds}, torch::kFloat64);
  world.all_reduce_max(t);
  return t.item<double>();
}

void bench_all_reduce(MpiCommunicator& world) {
  const int n = world.world_size();
  if (world.rank() == 0) {
    fmt::print(
        "all-reduce of float32 gradients, {} ranks (bus bandwidth = 2(n-1)/n x bytes / time)\n", n);
    fmt::print("{:>10} {:>8} {:>14} {:>14} {:>14} {:>14} {:>8}\n", "MiB", "tensors", "buckets ms",
               "raw ms", "buckets GB/s", "raw GB/s", "ratio");
  }
  for (const int64_t mib : {1, 8, 32, 128}) {
    // 100 tensors of equal size: the gradients of a mid-sized network.
    const int64_t tensors = 100;
    const int64_t elements = mib * 1024 * 1024 / 4 / tensors;
    std::vector<torch::Tensor> parameters;
    for (int64_t i = 0; i < tensors; ++i) {
      torch::Tensor p = torch::zeros({elements}).requires_grad_(true);
      p.mutable_grad() = torch::randn({elements});
      parameters.push_back(p);
    }
    ptqat::distributed::GradientBuckets buckets(parameters, world);
    const torch::Tensor flat = torch::ones({elements * tensors});
    const int repeats = mib >= 32 ? 5 : 20;
    buckets.sum_gradients();  // warmup: from here on the gradients live in the buckets
    world.barrier();
    const ptqat::core::Stopwatch bucket_clock;
    for (int r = 0; r < repeats; ++r) buckets.sum_gradients();
    const double bucket_s = slowest(bucket_clock.seconds(), world) / repeats;
    world.all_reduce_sum(flat);
    world.barrier();
    const ptqat::core::Stopwatch raw_clock;
    for (int r = 0; r < repeats; ++r) world.all_reduce_sum(flat);
    const double raw_s = slowest(raw_clock.seconds(), world) / repeats;
    const double bus_bytes = 2.0 * (n - 1) / n * static_cast<double>(flat.numel() * 4);
    if (world.rank() == 0) {
      fmt::print("{:>10} {:>8} {:>14.3f} {:>14.3f} {:>14.2f} {:>14.2f} {:>8.2f}\n", mib, tensors,
                 bucket_s * 1e3, raw_s * 1e3, bus_bytes / bucket_s / 1e9, bus_bytes / raw_s / 1e9,
                 raw_s / bucket_s);
    }
  }
}

/// Samples/s of `steps` training steps on the ranks of `group` (data-parallel when several).
double train_throughput(const std::string& name, int steps, ptqat::core::Collective& group) {
  torch::manual_seed(0);
  ptqat::bench::StepBenchModel model = ptqat::bench::make_step_bench_model(name);
  std::vector<torch::Tensor> parameters = model.module->parameters();
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(1e-4));
  std::optional<ptqat::distributed::GradientBuckets> buckets;
  if (group.world_size() > 1) buckets.emplace(parameters, group);
  ptqat::distributed::broadcast_module(*model.module, group);
  const torch::Tensor input = torch::randn(model.input_shape);
  const torch::Tensor target = torch::randn(model.target_shape);
  const auto step = [&] {
    optimizer.zero_grad();
    const torch::Tensor loss = torch::mse_loss(model.forward(input), target);
    if (buckets) {
      (loss * buckets->loss_scale()).backward();
      buckets->sum_gradients();
    } else {
      loss.backward();
    }
    optimizer.step();
  };
  step();  // warmup
  group.barrier();
  const ptqat::core::Stopwatch clock;
  for (int s = 0; s < steps; ++s) step();
  group.barrier();
  return static_cast<double>(group.world_size() * model.input_shape[0] * steps) / clock.seconds();
}

void bench_data_parallel(MpiCommunicator& world, const std::string& name, int steps) {
  torch::set_num_threads(1);
  // 1 rank x 1 thread: rank 0 alone in a group of its own; the others wait at the barrier.
  MpiCommunicator alone = world.split(world.rank() == 0 ? 0 : 1, world.rank());
  double one = 0;
  if (world.rank() == 0) one = train_throughput(name, steps, alone);
  world.barrier();
  const double all = train_throughput(name, steps, world);
  if (world.rank() == 0) {
    fmt::print("data-parallel training of '{}', {} steps, 1 thread per rank\n", name, steps);
    fmt::print(
        "  1 rank : {:.2f} samples/s\n  {} ranks: {:.2f} samples/s\n  speedup {:.2f}x, "
        "efficiency {:.0f}% (speedup / ranks)\n",
        one, world.world_size(), all, all / one, 100.0 * all / one / world.world_size());
  }
}

}  // namespace

int main(int argc, char** argv) {
  ptqat::distributed::MpiWorld mpi(&argc, &argv);
  int steps = 20;
  std::string model = "bev";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--model") == 0) model = argv[i + 1];
  }
  try {
    MpiCommunicator world = MpiCommunicator::world();
    bench_all_reduce(world);
    bench_data_parallel(world, model, steps);
  } catch (const std::exception& error) {
    ptqat::distributed::abort_world(error.what(), 1);
  }
  return 0;
}
