#include "bench/loader_throughput.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/resources.h"
#include "core/runtime_config.h"
#include "datasets/loader.h"

namespace ptqat::bench {

void bench_loader(const LoaderSetup& config, int64_t batches, std::ostream& out) {
  const int threads = core::apply_thread_setting(config.threads);
  const core::Stopwatch index_time;
  auto nusc = std::make_shared<datasets::NuScenes>(config.data.dataroot, config.data.version);
  const datasets::NuScenesDataset dataset(nusc, config.data.train_split, config.data);
  spdlog::info("indexed {} ({} samples in split {}) in {:.2f} s", config.data.version,
               dataset.size(), config.data.train_split, index_time.seconds());

  datasets::Loader loader(dataset, config.loader, config.pillars, config.augment, 0, 1,
                          config.seed);
  const int64_t planned = batches > 0 ? batches : loader.steps_per_epoch();
  int64_t samples = 0, points = 0, pillars = 0, done = 0;
  const core::Stopwatch timer;
  for (int64_t epoch = 0; done < planned; ++epoch) {
    loader.start_epoch(epoch);
    while (done < planned) {
      const auto batch = loader.next();
      if (!batch) break;
      samples += batch->size();
      points += batch->points.size(0);
      pillars += batch->pillar_features.size(0);
      ++done;
    }
  }
  const double seconds = timer.seconds();
  out << fmt::format(
      "loader: {} batches, {} samples in {:.2f} s = {:.1f} samples/s ({} workers, {} intra-op "
      "threads, {} sweeps)\n  points/sample {:.0f}, pillars/sample {:.0f}, peak RSS {:.0f} MiB\n",
      done, samples, seconds, static_cast<double>(samples) / seconds, config.loader.workers,
      threads, config.data.nsweeps, static_cast<double>(points) / static_cast<double>(samples),
      static_cast<double>(pillars) / static_cast<double>(samples),
      static_cast<double>(core::peak_rss_bytes()) / (1 << 20));
}

}  // namespace ptqat::bench
