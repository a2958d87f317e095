#pragma once
// `ptqat bench` scenarios: whole-pipeline measurements on the user's own config and data
// (the micro-benchmarks live in bench/).

#include <cstdint>
#include <ostream>

#include "runner/run_config.h"

namespace ptqat::runner {

/// Runs the training loader of `config` (its train split, augmentation, pillars, workers) for
/// `batches` batches (0 = one epoch) and prints samples/s, points and pillars per sample.
void bench_loader(const RunConfig& config, int64_t batches, std::ostream& out);

}  // namespace ptqat::runner
