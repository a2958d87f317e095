#include "runner/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "core/durable_file.h"
#include "core/error.h"
#include "core/resources.h"
#include "core/stage_key.h"
#include "distributed/job_group.h"
#include "runner/checkpoint.h"
#include "runner/quantization.h"
#include "runner/stage_context.h"
#include "runner/stage_keys.h"
#include "runner/stage_run.h"
#include "tasks/metrics_text.h"

namespace ptqat::runner {

namespace {

/// What the checkpoint is: its run config, stage and key.
struct CheckpointIdentity {
  RunConfig config;
  std::string path;
  std::string stage;
  std::string key;
  std::vector<std::string> frozen_layers;
};

std::string metadata_value(const TrainingState& state, const char* key) {
  const auto found = state.metadata.find(key);
  return found == state.metadata.end() ? std::string() : found->second;
}

/// The stage key a checkpoint carries is the one its stored config gives its stage: a checkpoint
/// whose metadata was edited, or that belongs to another run, is refused rather than evaluated
/// and recorded as the stage it names.
void check_stage_key(const CheckpointIdentity& identity, const RunConfig& stored) {
  const StageKeys keys = stage_keys(stored);
  const std::map<std::string, std::string> by_stage = {
      {core::stage_name(core::Stage::kFloatTrain), keys.float_train},
      {core::stage_name(core::Stage::kCalibrate), keys.calibrate},
      {core::stage_name(core::Stage::kFineTune), keys.fine_tune}};
  const auto expected = by_stage.find(identity.stage);
  PTQAT_CHECK(expected != by_stage.end(), DataError,
              "{}: unknown stage '{}' in the checkpoint (expected float_train, calibrate or "
              "fine_tune)",
              identity.path, identity.stage);
  PTQAT_CHECK(expected->second == identity.key, DataError,
              "{}: the checkpoint names stage {}, but its stored config gives {} stage {}: its "
              "metadata do not belong together",
              identity.path, identity.key, identity.stage, expected->second);
}

CheckpointIdentity identify(const EvaluationOptions& options) {
  CheckpointIdentity identity;
  if (options.checkpoint.empty()) {
    PTQAT_CHECK(!options.config_file.empty(), ConfigError,
                "eval: give --checkpoint, or --config to evaluate that config's float model");
    identity.config = load_run_config(options.config_file, options.overrides);
    // The float model trained on train.ranks ranks; 0 means as many as this launch has.
    if (identity.config.train.ranks == 0)
      identity.config.train.ranks = distributed::job_group().world_size();
    identity.key = stage_keys(identity.config).float_train;
    identity.path = stage_paths(identity.config, identity.key).checkpoint;
    identity.stage = core::stage_name(core::Stage::kFloatTrain);
    return identity;
  }
  identity.path = options.checkpoint;
  const TrainingState state = read_checkpoint_state(options.checkpoint);
  const std::string stored_config = metadata_value(state, metadata::kConfig);
  if (options.config_file.empty()) {
    PTQAT_CHECK(!stored_config.empty(), DataError,
                "{}: the checkpoint stores no run config: pass the one it was trained with "
                "(--config)",
                options.checkpoint);
    identity.config =
        parse_run_config(stored_config, options.checkpoint + " (stored config)", options.overrides);
  } else {
    identity.config = load_run_config(options.config_file, options.overrides);
  }
  identity.key = metadata_value(state, metadata::kStageKey);
  identity.stage = metadata_value(state, metadata::kStage);
  if (identity.stage.empty()) identity.stage = core::stage_name(core::Stage::kFloatTrain);
  if (!stored_config.empty() && !identity.key.empty()) {
    check_stage_key(identity, parse_run_config(stored_config, options.checkpoint, {}));
  }
  std::istringstream frozen(metadata_value(state, metadata::kFrozenLayers));
  for (std::string name; std::getline(frozen, name);) {
    if (!name.empty()) identity.frozen_layers.push_back(name);
  }
  return identity;
}

/// The method a stage's model stands for, as records name it.
std::string method_of(const CheckpointIdentity& identity) {
  if (identity.stage == core::stage_name(core::Stage::kFloatTrain)) return "float";
  if (identity.stage == core::stage_name(core::Stage::kCalibrate)) return "ptq";
  return quant::method_name(identity.config.quant.method);  // a fine-tune: QAT or PTQAT
}

}  // namespace

CheckpointModel load_checkpoint_model(const std::string& checkpoint, const std::string& config_file,
                                      const std::vector<std::string>& overrides) {
  EvaluationOptions options;
  options.checkpoint = checkpoint;
  options.config_file = config_file;
  options.overrides = overrides;
  CheckpointIdentity identity = identify(options);
  CheckpointModel loaded;
  loaded.method = method_of(identity);
  loaded.context = std::make_unique<StageContext>(identity.config, /*with_train_split=*/false,
                                                  distributed::job_group());
  loaded.model = loaded.context->build_model();
  const bool quantized = identity.stage != core::stage_name(core::Stage::kFloatTrain);
  if (quantized) {
    // The checkpoint's quantizer shapes and frozen caches must exist before it loads: configure
    // as its stage did, and freeze its frozen layers with their current weights, which the load
    // then replaces by the checkpoint's cached ones.
    loaded.layers =
        configure_quantization(*loaded.context, *loaded.model, loaded.context->first_eval_batch());
    for (const std::string& name : identity.frozen_layers) {
      const auto found =
          std::find_if(loaded.layers.begin(), loaded.layers.end(),
                       [&](const quant::NamedLayer& layer) { return layer.name == name; });
      PTQAT_CHECK(found != loaded.layers.end(), DataError,
                  "{}: frozen layer '{}' is not a quantizable layer of this model", identity.path,
                  name);
      quant::QuantizableLayer& layer = *found->layer;
      layer.freeze_with(layer.folded_weight(), layer.folded_bias());
    }
    quant::set_mode(loaded.layers, quant::LayerMode::kQuantize);
  }
  load_model_weights(identity.path, *loaded.model);
  loaded.config = std::move(identity.config);
  loaded.path = std::move(identity.path);
  loaded.stage = std::move(identity.stage);
  loaded.key = std::move(identity.key);
  return loaded;
}

tasks::TaskMetrics run_evaluation(const EvaluationOptions& options, std::ostream& out) {
  const StageRun run;
  const CheckpointModel loaded =
      load_checkpoint_model(options.checkpoint, options.config_file, options.overrides);
  const RunConfig& config = loaded.config;
  check_output(config);
  const StageContext& context = *loaded.context;
  torch::nn::Module& model = *loaded.model;

  // Each rank evaluates its shard of the split; rank 0 writes the files.
  const tasks::TaskMetrics metrics =
      context.evaluate(model, {options.export_json, options.export_dir});
  out << fmt::format("{} ({} model, stage {}) on {} / {}:\n", loaded.path, loaded.method,
                     loaded.key, config.data.version, config.data.eval_split)
      << tasks::metrics_table(metrics);
  if (!options.export_json.empty()) out << "submission: " << options.export_json << "\n";
  if (!options.export_dir.empty()) out << "predictions: " << options.export_dir << "\n";
  if (!options.metrics_json.empty() && context.writes()) {
    core::write_file_durably(options.metrics_json, metrics.json);
    out << "metrics: " << options.metrics_json << "\n";
  }

  // Keyed by the checkpoint's contents, not only the stage it names: an evaluation of a copy or
  // of a changed file is another record, never the recorded one's.
  RunConfig resolved = config;
  const std::string content = core::file_content_hash(loaded.path);
  const std::string key = core::stage_key(core::fields_of(resolved), core::Stage::kEvaluate,
                                          fmt::format("{} content {}", loaded.key, content));
  // Not reuse_recorded(): the evaluated stage need not be recorded in this store; the key
  // holds the checkpoint's contents already.
  if (!config.runtime.force && results::ResultsStore(config.output.dir).contains(key)) {
    out << fmt::format(
        "evaluation {}: recorded already (same checkpoint contents and settings), not recorded "
        "again; --force records it as a new version\n",
        key);
    return metrics;
  }
  results::RunRecord record =
      run.record(config, key, loaded.key, core::Stage::kEvaluate, loaded.method, model, metrics);
  record.trainable_parameters = 0;
  record.parent_content_hash = content;
  publish(context, record, "");
  return metrics;
}

}  // namespace ptqat::runner
