// Generator throughput: keyframes per second of `ptqat data synth` at the demo preset's scene
// size (40 keyframes, 10 LiDAR sweeps each, lidarseg, Occ3D), and of its two heavy stages.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "datasets/synth/synth_dataset.h"
#include "datasets/synth/synth_lidar.h"
#include "datasets/synth/synth_occupancy.h"
#include "datasets/synth/synth_world.h"

namespace {

using namespace ptqat::datasets;

void BM_SynthDemoScenes(benchmark::State& state) {
  const auto out = std::filesystem::temp_directory_path() / "ptqat-synth-bench";
  SynthOptions options;
  options.preset = "demo";
  options.scenes = state.range(0);
  int64_t samples = 0;
  for (auto _ : state) {
    std::filesystem::remove_all(out);
    samples += write_synth_dataset(options, out.string()).samples;
  }
  std::filesystem::remove_all(out);
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SynthDemoScenes)
    ->ArgName("scenes")
    ->Arg(2)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

void BM_CastLidarSweep(benchmark::State& state) {
  const SynthScene scene = make_synth_scene(0, 0, 19.5);
  std::mt19937_64 rng(1);
  double t = 0;
  for (auto _ : state) {
    const RigidTransform pose{
        Eigen::Quaterniond(Eigen::AngleAxisd(scene.ego_yaw(t), Eigen::Vector3d::UnitZ())),
        scene.ego_translation(t) + Eigen::Vector3d(0.94, 0, 1.84)};
    auto scan = cast_lidar(scene, t, pose, LidarModel{}, rng);
    benchmark::DoNotOptimize(scan.points.data_ptr());
    t = t > 19 ? 0 : t + 0.05;
  }
}
BENCHMARK(BM_CastLidarSweep)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
