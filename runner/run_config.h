#pragma once
// The whole config of a ptqat run: one typed struct per folder's knobs, under one root.

#include <cstdint>

#include "core/config.h"
#include "core/runtime_config.h"
#include "datasets/augment.h"
#include "datasets/data_config.h"
#include "datasets/loader.h"
#include "datasets/pillars.h"

namespace ptqat::runner {

struct RunConfig {
  int64_t seed = 0;
  core::RuntimeConfig runtime;
  datasets::DataConfig data;
  datasets::LoaderConfig loader;
  datasets::PillarConfig pillars;
  datasets::AugmentConfig augment;

  void visit(core::ConfigVisitor& v);
};

/// Loads a run config (defaults when `path` is empty), applies overrides, and validates the
/// parts whose rules span several fields.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace ptqat::runner
