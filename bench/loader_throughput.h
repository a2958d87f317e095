#pragma once
// `ptqat bench loader`: the training loader's throughput on the user's own config and data
// (the Google Benchmark programs beside it measure the loader's parts on synthetic data).

#include <cstdint>
#include <ostream>

#include "datasets/augment.h"
#include "datasets/data_config.h"
#include "datasets/loader.h"
#include "datasets/pillars.h"

namespace ptqat::bench {

/// What the loader of a run reads and how: the run config's sections of the same names.
struct LoaderSetup {
  datasets::DataConfig data;
  datasets::LoaderConfig loader;
  datasets::PillarConfig pillars;
  datasets::AugmentConfig augment;
  int64_t threads = 0;  ///< runtime.threads: intra-op threads (0: LibTorch's default)
  uint64_t seed = 0;    ///< the run seed: shuffling and augmentation
};

/// Runs the training loader of `setup` (its train split, augmentation, pillars, workers) for
/// `batches` batches (0 = one epoch) and prints samples/s, points and pillars per sample.
void bench_loader(const LoaderSetup& setup, int64_t batches, std::ostream& out);

}  // namespace ptqat::bench
