// Loader throughput: samples/s of the full loading path (10-sweep aggregation of ~34k-point
// HDL-32E-sized sweeps, global augmentation, pillarization at the nuScenes preset of 0.2 m
// pillars over +-51.2 m, collation) with 0 (inline), 1 and 2 worker threads.
//
// The dataset is written once into a temp folder in the nuScenes format: keyframes at 2 Hz with
// 9 sweeps between them (LiDAR at 20 Hz), as in real nuScenes.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "core/resources.h"
#include "datasets/nuscenes/lidar_sweeps.h"
#include "datasets/loader.h"
#include "tests/support/nuscenes_fixture.h"

namespace {

using namespace ptqat;

constexpr int kSamples = 12;
constexpr int kPointsPerSweep = 34'000;

struct BenchDataset {
  std::filesystem::path root;
  std::shared_ptr<datasets::NuScenes> nusc;
  std::unique_ptr<datasets::NuScenesDataset> dataset;

  BenchDataset() {
    root = std::filesystem::temp_directory_path() / "ptqat-loader-bench";
    std::filesystem::remove_all(root);
    testing::NuScenesFixture fixture =
        testing::standard_fixture({"scene-0061"}, kSamples, /*sweeps=*/9);
    fixture.default_points = kPointsPerSweep;
    fixture.write_occupancy = false;
    fixture.write(root.string());
    nusc = std::make_shared<datasets::NuScenes>(root.string(), "v1.0-mini");
    datasets::DataConfig data;
    data.dataroot = root.string();
    data.nsweeps = 10;
    dataset = std::make_unique<datasets::NuScenesDataset>(nusc, "mini_train", data);
  }
  ~BenchDataset() { std::filesystem::remove_all(root); }
};

const BenchDataset& bench_dataset() {
  static const BenchDataset dataset;
  return dataset;
}

// The stages of one sample, for locating where loader time goes.
void BM_AggregateTenSweeps(benchmark::State& state) {
  const auto& data = bench_dataset();
  const auto& rows = data.dataset->rows();
  size_t i = 0;
  for (auto _ : state) {
    auto sweeps = datasets::aggregate_sweeps(*data.nusc, rows[i++ % rows.size()], 10);
    benchmark::DoNotOptimize(sweeps.points.data_ptr());
  }
}
BENCHMARK(BM_AggregateTenSweeps)->Unit(benchmark::kMillisecond);

void BM_ReadSample(benchmark::State& state) {
  const auto& data = bench_dataset();
  int64_t i = 0;
  for (auto _ : state) {
    auto sample = data.dataset->get(i++ % data.dataset->size());
    benchmark::DoNotOptimize(sample.points.data_ptr());
  }
}
BENCHMARK(BM_ReadSample)->Unit(benchmark::kMillisecond);

void BM_PillarizeTenSweeps(benchmark::State& state) {
  const auto& data = bench_dataset();
  const auto points = data.dataset->get(0).points;
  const datasets::PillarConfig config;
  for (auto _ : state) {
    auto pillars = datasets::pillarize(points, config);
    benchmark::DoNotOptimize(pillars.features.data_ptr());
  }
}
BENCHMARK(BM_PillarizeTenSweeps)->Unit(benchmark::kMillisecond);

void BM_LoaderSamplesPerSecond(benchmark::State& state) {
  const auto& data = bench_dataset();
  datasets::LoaderConfig config;
  config.batch_size = 1;
  config.workers = state.range(0);
  config.prefetch = 4;
  datasets::Loader loader(*data.dataset, config, datasets::PillarConfig{},
                          datasets::AugmentConfig{}, 0, 1, 0);
  int64_t samples = 0, points = 0, epoch = 0;
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    while (auto batch = loader.next()) {
      samples += batch->size();
      points += batch->points.size(0);
      benchmark::DoNotOptimize(batch->pillar_features.data_ptr());
    }
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["points/sample"] = static_cast<double>(points) / static_cast<double>(samples);
}
BENCHMARK(BM_LoaderSamplesPerSecond)
    ->ArgName("workers")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

}  // namespace

int main(int argc, char** argv) {
  // Compare with PTQAT_DEFAULT_ALLOCATOR=1 to see what the allocator setting is worth.
  if (!std::getenv("PTQAT_DEFAULT_ALLOCATOR")) ptqat::core::keep_freed_memory_in_heap();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
