#include "runner/torch_interop.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/resources.h"
#include "core/stage_key.h"
#include "core/torch_pickle.h"
#include "distributed/job_group.h"
#include "quant/quantized_export.h"
#include "runner/checkpoint.h"
#include "runner/evaluation.h"
#include "runner/stage_context.h"
#include "runner/stage_keys.h"
#include "runner/stage_run.h"
#include "tasks/metrics_text.h"

namespace ptqat::runner {

quant::NameMapping named_mapping(const std::string& name, const RunConfig& config) {
  if (name == "none") return {};
  // A naming convention the task knows (detection: mmdet3d), else a JSON file.
  if (std::optional<quant::NameMapping> mapping =
          tasks::task_checkpoint_names(config.task, name, task_inputs(config))) {
    return *mapping;
  }
  return quant::read_name_mapping(name);
}

tasks::TaskMetrics run_torch_import(const TorchImportOptions& options, std::ostream& out) {
  const StageRun run;
  RunConfig config = with_ranks(load_run_config(options.config_file, options.overrides),
                                distributed::job_group().world_size());
  check_output(config);
  const quant::NameMapping mapping = named_mapping(options.mapping, config);
  const StageContext context(config, /*with_train_split=*/false, distributed::job_group());
  const std::shared_ptr<torch::nn::Module> model = context.build_model();
  quant::load_float_state(*model, core::read_torch_state_dict(options.torch_file), mapping,
                          options.torch_file);

  const std::string key = stage_keys(config).float_train;
  // Before anything is written: the checkpoint below would replace the recorded model's.
  PTQAT_CHECK(!reuse_recorded(config, key), results::RecordExists,
              "{}: float model {} is recorded (trained or imported before); --force imports over "
              "it and keeps its record as a superseded version",
              results::ResultsStore(config.output.dir).record_path(key), key);
  const tasks::TaskMetrics metrics = context.evaluate(*model, {});
  const StagePaths paths = stage_paths(config, key);
  TrainingState state;
  state.metadata = stage_metadata(config, key, core::Stage::kFloatTrain);
  state.metadata["imported_from"] = options.torch_file;
  state.best_metric = metrics.has_ground_truth ? metrics.scalars.at(metrics.primary) : 0.0;
  if (context.writes()) save_model_checkpoint(paths.checkpoint, *model, state);

  results::RunRecord record =
      run.record(config, key, "", core::Stage::kFloatTrain, "float", *model, metrics);
  record.provenance = {{"source", std::filesystem::absolute(options.torch_file).string()},
                       {"source_content_hash", core::file_content_hash(options.torch_file)},
                       {"mapping", options.mapping}};
  // The validation history of a trained float model, as one point: the imported weights.
  if (metrics.has_ground_truth) {
    record.history["val_" + metrics.primary] =
        results::MetricHistory{{0}, {metrics.scalars.at(metrics.primary)}};
  }
  publish(context, record, paths.checkpoint);
  out << fmt::format("imported {} as float model {}: {}\ncheckpoint: {}\n", options.torch_file, key,
                     tasks::summary_line(metrics), paths.checkpoint);
  return metrics;
}

void run_torch_export(const TorchExportOptions& options, std::ostream& out) {
  PTQAT_CHECK(!options.torch_file.empty() || !options.quantized_file.empty(), ConfigError,
              "export: give --torch FILE.pth and/or --quantized FILE.h5");
  const CheckpointModel loaded = load_checkpoint_model(options.checkpoint, "", options.overrides);
  if (!loaded.context->writes()) return;
  if (!options.torch_file.empty()) {
    const quant::NameMapping mapping = named_mapping(options.mapping, loaded.config);
    core::write_torch_state_dict(options.torch_file,
                                 quant::mapped_float_state(*loaded.model, mapping));
    out << fmt::format("float weights of {} ({} model): {}\n", loaded.path, loaded.method,
                       options.torch_file);
  }
  if (!options.quantized_file.empty()) {
    PTQAT_CHECK(!loaded.layers.empty(), ConfigError,
                "export --quantized: {} is a float model; export a calibrated or fine-tuned stage",
                loaded.path);
    quant::export_quantized(loaded.layers, options.quantized_file);
    out << fmt::format("quantized layers of {} ({} model): {}\n", loaded.path, loaded.method,
                       options.quantized_file);
  }
}

}  // namespace ptqat::runner
