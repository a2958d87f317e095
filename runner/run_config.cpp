#include "runner/run_config.h"

#include "core/config_toml.h"

namespace ptqat::runner {

void RunConfig::visit(core::ConfigVisitor& v) {
  v.field({"seed", "seed of initialisation, shuffling and augmentation", core::Stage::kFloatTrain},
          seed, core::IntRange{0, std::numeric_limits<int32_t>::max()});
  runtime.visit(v);
  data.visit(v);
  loader.visit(v);
  pillars.visit(v);
  augment.visit(v);
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  RunConfig config = core::load_config<RunConfig>(path, overrides);
  datasets::validate(config.pillars);
  datasets::validate(config.augment);
  return config;
}

}  // namespace ptqat::runner
