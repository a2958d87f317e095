#pragma once
// The whole config of a ptqat run: one typed struct per folder's knobs, under one root.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/runtime_config.h"
#include "datasets/augment.h"
#include "datasets/data_config.h"
#include "datasets/loader.h"
#include "datasets/pillars.h"
#include "quant/quant_config.h"
#include "runner/train_config.h"
#include "tasks/bev/bev_net_config.h"
#include "tasks/task.h"
#include "tasks/task_registry.h"
#include "tasks/task_sections.h"

namespace ptqat::runner {

/// Where a run writes (section "output"): checkpoints named by stage key, records, results.
struct OutputConfig {
  /// Root of the run's outputs: checkpoints/<stage key>.pt, records/, results.h5, logs.
  std::string dir = "runs/default";
  /// The consolidated results file; empty: <dir>/results.h5 (`ptqat sweep --out` sets it).
  std::string results;

  void visit(core::ConfigVisitor& v);
};

struct RunConfig {
  int64_t seed = 0;
  /// The perception task: one registered in tasks/task_registry.h (the built-in ones, or a
  /// program's own, runner/task_plugins.h).
  std::string task = tasks::kDefaultTask;
  core::RuntimeConfig runtime;
  datasets::DataConfig data;
  datasets::LoaderConfig loader;
  datasets::PillarConfig pillars;
  datasets::AugmentConfig augment;
  /// Section "model": the BEV network every task shares.
  tasks::bev::BevNetConfig model;
  quant::QuantConfig quant;
  TrainConfig train;
  FineTuneConfig finetune;
  OutputConfig output;
  /// Sections [<task name>] of the registered tasks that have options (the built-in tasks'
  /// heads: [detection], [segmentation], [occupancy]).
  tasks::TaskSections task_options;

  void visit(core::ConfigVisitor& v);
};

/// What the task of `config` is built from (references into `config`); `index`: its dataset,
/// null when only models are built.
tasks::TaskInputs task_inputs(const RunConfig& config,
                              std::shared_ptr<const datasets::NuScenes> index = nullptr);

/// The task of `config`, evaluating config.data.eval_split of `index`. ConfigError for an
/// unregistered task.
std::unique_ptr<tasks::Task> make_task(const RunConfig& config,
                                       std::shared_ptr<const datasets::NuScenes> index);

/// output.results, or <output.dir>/results.h5 when it is empty.
std::string results_path(const OutputConfig& output);

/// `config` with train.ranks and finetune.ranks resolved for stages that run on `ranks` ranks: 0
/// becomes `ranks`. ConfigError naming the key when a set count differs from `ranks`.
RunConfig with_ranks(RunConfig config, int ranks);

/// Loads a run config (defaults when `path` is empty), applies overrides, and validates the
/// parts whose rules span several fields.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides);

/// The resolved config (every field, defaults included) as TOML: what records and checkpoints
/// store.
std::string resolved_toml(const RunConfig& config);

/// As load_run_config(), from TOML text (the config a checkpoint stores); `source_name` stands
/// for the file in error messages.
RunConfig parse_run_config(const std::string& text, const std::string& source_name,
                           const std::vector<std::string>& overrides);

}  // namespace ptqat::runner
