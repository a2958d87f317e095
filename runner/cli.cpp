#include "runner/cli.h"

#include <CLI/CLI.hpp>

#include <map>
#include <utility>

#include "core/config_toml.h"
#include "core/error.h"
#include "core/logging.h"
#include "core/preemption.h"
#include "core/version.h"
#include "datasets/synth_dataset.h"
#include "runner/bench_commands.h"
#include "runner/bev_bench_model.h"
#include "runner/data_commands.h"
#include "runner/evaluation.h"
#include "runner/float_training.h"
#include "runner/job_group.h"
#include "runner/quantization.h"
#include "runner/report.h"
#include "runner/report_plots.h"
#include "runner/results_listing.h"
#include "runner/results_store.h"
#include "runner/run_config.h"
#include "runner/slurm_command.h"
#include "runner/step_bench.h"
#include "runner/sweep_command.h"
#include "runner/torch_interop.h"

namespace ptqat::runner {

namespace {

std::string version_text() {
  return fmt::format("ptqat {} (git {}), LibTorch {}", ptqat::version(), ptqat::git_revision(),
                     TORCH_VERSION);
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "ptqat: hybrid post-training / quantization-aware training of 3D perception "
      "networks on nuScenes"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text());
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  std::string preempt_signal = "USR1";
  app.add_option("--preempt-signal", preempt_signal,
                 "signal that stops training at a checkpoint, exit code 75 (USR1, USR2, TERM, "
                 "INT, HUP or none)")
      ->capture_default_str();

  // ptqat config show [FILE] [--set key=value ...]
  CLI::App* config = app.add_subcommand("config", "inspect run configs")->require_subcommand(1);
  CLI::App* show = config->add_subcommand("show", "print the fully resolved config as TOML");
  std::string config_file;
  std::vector<std::string> overrides;
  show->add_option("file", config_file, "TOML config (defaults when omitted)");
  show->add_option("--set", overrides, "override a key: --set data.nsweeps=5 (repeatable)");

  CLI::App* keys = config->add_subcommand("keys",
                                          "list every config key: type, range, default, "
                                          "stage and what it does");

  // ptqat data info / inspect
  CLI::App* data =
      app.add_subcommand("data", "inspect nuScenes-format data")->require_subcommand(1);
  CLI::App* info = data->add_subcommand("info", "index a dataset and print its statistics");
  DataInfoOptions info_options;
  info->add_option("--dataroot", info_options.dataroot, "folder holding <version>/")->required();
  info->add_option("--version", info_options.version, "version folder, e.g. v1.0-mini")->required();
  info->add_option("--max-samples", info_options.max_samples,
                   "keyframes read for point and label statistics")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  info->add_option("--occupancy-dir", info_options.occupancy_dir,
                   "Occ3D gts folder relative to the dataroot")
      ->capture_default_str();
  CLI::App* synth = data->add_subcommand(
      "synth", "write a synthetic dataset in the nuScenes format (tables, LiDAR, lidarseg, Occ3D)");
  datasets::SynthOptions synth_options;
  std::string synth_out;
  synth->add_option("--out", synth_out, "dataroot to write")->required();
  synth
      ->add_option("--preset", synth_options.preset,
                   "tiny (tests), demo (the demo), trainval (v1.0-trainval scale)")
      ->capture_default_str();
  synth->add_option("--scenes", synth_options.scenes, "scenes (default: the preset's)");
  synth->add_option("--samples", synth_options.samples_per_scene,
                    "keyframes per scene, 2 Hz (default: the preset's)");
  synth->add_option("--seed", synth_options.seed, "seed; the same seed gives identical files")
      ->capture_default_str();
  synth->add_option("--version", synth_options.version, "version folder name")
      ->capture_default_str();
  synth->add_flag("--tables-only", synth_options.tables_only,
                  "write the tables only, no sensor files");
  CLI::App* inspect = data->add_subcommand("inspect",
                                           "summarise one .pcd.bin, _lidarseg.bin or "
                                           ".npz file");
  std::string inspect_file;
  inspect->add_option("file", inspect_file, "the file")->required();
  CLI::App* gtdb = data->add_subcommand(
      "gtdb", "build the ground-truth database of GT-paste augmentation from the training split");
  GtDatabaseOptions gtdb_options;
  gtdb->add_option("--config", gtdb_options.config_file, "TOML run config (its data.*)")->required();
  gtdb->add_option("--set", gtdb_options.overrides, "override a key (repeatable)");
  gtdb->add_option("--out", gtdb_options.out, "the database file to write (HDF5)")->required();
  gtdb->add_option("--min-points", gtdb_options.min_points, "leave out objects with fewer points")
      ->capture_default_str();

  // ptqat bench loader [FILE] [--set ...] [--batches N]
  CLI::App* bench = app.add_subcommand("bench",
                                       "measure pipeline throughput on your config and "
                                       "data")
                        ->require_subcommand(1);
  CLI::App* bench_loader_command =
      bench->add_subcommand("loader",
                            "samples/s of the training loader (read, aggregate sweeps, "
                            "augment, pillarize, collate)");
  std::string bench_config;
  std::vector<std::string> bench_overrides;
  int64_t bench_batches = 0;
  bench_loader_command->add_option("file", bench_config, "TOML run config");
  bench_loader_command->add_option("--set", bench_overrides, "override a key (repeatable)");
  bench_loader_command->add_option("--batches", bench_batches, "batches to load; 0 = one epoch")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  // ptqat bench step [--model NAME] [--threads N] [--steps N] [--warmup N] [--json]
  CLI::App* bench_step_command = bench->add_subcommand(
      "step",
      "training-step time and peak memory of float, QAT (W4A8) and PTQAT (freeze 0.5) on a "
      "fixed model");
  StepBenchOptions step_options;
  std::string step_memory_variant;
  bench_step_command->add_option("--model", step_options.model, "bev (tiny-bev: tests)")
      ->capture_default_str()
      ->check(CLI::IsMember(step_bench_model_names()));
  bench_step_command
      ->add_option("--threads", step_options.threads, "intra-op threads; 0 = every core")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  bench_step_command
      ->add_option("--steps", step_options.steps, "timed steps per variant (median reported)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  bench_step_command->add_option("--warmup", step_options.warmup, "untimed rounds first")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench_step_command->add_flag("--json", step_options.json, "print one JSON object");
  // The memory run of one variant in its own process (runner/step_bench.h).
  bench_step_command->add_option("--memory-variant", step_memory_variant)
      ->check(CLI::IsMember({"float", "qat", "ptqat"}))
      ->group("");

  // ptqat train --config FILE [--set key=value ...]
  CLI::App* train = app.add_subcommand(
      "train", "train the float baseline of a run config (resumes from its last checkpoint)");
  std::string train_config;
  std::vector<std::string> train_overrides;
  train->add_option("--config", train_config, "TOML run config")->required();
  train->add_option("--set", train_overrides, "override a key (repeatable)");

  // ptqat quantize --config FILE --method ptq|qat|ptqat [shorthands] [--set key=value ...]
  CLI::App* quantize = app.add_subcommand(
      "quantize",
      "PTQ, QAT or PTQAT of the config's float model (run `ptqat train` first); stages already "
      "recorded under output.dir are reused");
  std::string quantize_config;
  std::vector<std::string> quantize_overrides;
  // Shorthands for quant.* keys, applied after --set.
  const std::vector<std::pair<const char*, const char*>> quantize_shorthands = {
      {"--method", "quant.method"},
      {"--weight-bits", "quant.weight.bits"},
      {"--activation-bits", "quant.activation.bits"},
      {"--freeze-ratio", "quant.freeze_ratio"},
      {"--rule", "quant.rule"},
      {"--discrepancy-mode", "quant.discrepancy_mode"},
      {"--discrepancy-metric", "quant.discrepancy_metric"}};
  std::map<std::string, std::string> quantize_values;
  quantize->add_option("--config", quantize_config, "TOML run config")->required();
  quantize->add_option("--set", quantize_overrides, "override a key (repeatable)");
  for (const auto& [flag, key] : quantize_shorthands) {
    quantize->add_option(flag, quantize_values[key], std::string("sets ") + key);
  }

  // ptqat eval [--checkpoint CKPT] [--config FILE] [--set ...] [--export-json F] [--export-dir D]
  //            [--metrics-json F]
  CLI::App* eval = app.add_subcommand(
      "eval",
      "evaluate a checkpoint (default: the config's float model) with the official metric");
  EvaluationOptions eval_options;
  eval->add_option("--checkpoint", eval_options.checkpoint,
                   "a stage's .pt; its stored config is used unless --config is given");
  eval->add_option("--config", eval_options.config_file, "TOML run config");
  eval->add_option("--set", eval_options.overrides, "override a key (repeatable)");
  eval->add_option("--export-json", eval_options.export_json,
                   "write the predictions as a nuScenes submission JSON");
  eval->add_option("--export-dir", eval_options.export_dir,
                   "write segmentation / occupancy predictions in the challenge folder layout");
  eval->add_option("--metrics-json", eval_options.metrics_json, "write the metrics as JSON");

  // ptqat import --config F --torch CKPT.pth [--mapping none|mmdet3d|FILE.json]
  CLI::App* import = app.add_subcommand(
      "import", "a PyTorch checkpoint's weights as the config's float model (then quantize it)");
  TorchImportOptions import_options;
  import->add_option("--config", import_options.config_file, "TOML run config")->required();
  import->add_option("--set", import_options.overrides, "override a key (repeatable)");
  import->add_option("--torch", import_options.torch_file, "the torch.save'd checkpoint")->required();
  import->add_option("--mapping", import_options.mapping,
                     "names: none (ptqat's), mmdet3d (CenterPoint), or a JSON {ptqat: theirs}")
      ->capture_default_str();

  // ptqat export --checkpoint CKPT [--torch OUT.pth [--mapping M]] [--quantized OUT.h5]
  CLI::App* export_command = app.add_subcommand(
      "export", "a stage's float weights as a PyTorch file, its quantized layers as HDF5");
  TorchExportOptions export_options;
  export_command->add_option("--checkpoint", export_options.checkpoint, "a stage's .pt")->required();
  export_command->add_option("--set", export_options.overrides, "override a key (repeatable)");
  export_command->add_option("--torch", export_options.torch_file, "write the float weights here");
  export_command->add_option("--mapping", export_options.mapping,
                             "names: none (ptqat's), mmdet3d (CenterPoint), or a JSON {ptqat: theirs}")
      ->capture_default_str();
  export_command->add_option("--quantized", export_options.quantized_file,
                             "write integer weights, scales and zero points here (HDF5)");

  // ptqat sweep SWEEP.toml [--out RESULTS.h5] [--set ...] [--dry-run]
  CLI::App* sweep = app.add_subcommand(
      "sweep", "run a sweep's grid of train / calibrate / fine-tune stages over groups of ranks; "
               "stages already recorded are skipped");
  SweepOptions sweep_options;
  sweep->add_option("sweep", sweep_options.sweep_file, "sweep TOML (configs/sweeps/)")->required();
  sweep->add_option("--out", sweep_options.out, "results file (default <output.dir>/results.h5)");
  sweep->add_option("--set", sweep_options.overrides, "override a key of every point (repeatable)");
  sweep->add_flag("--dry-run", sweep_options.dry_run, "print the stage plan and stop");

  // ptqat slurm SWEEP.toml --nodes N --gpus-per-node G --time T [--partition P] [--submit]
  CLI::App* slurm = app.add_subcommand(
      "slurm", "write (and with --submit, submit) the sbatch script that runs a sweep on Slurm");
  SlurmOptions slurm_options;
  slurm->add_option("sweep", slurm_options.sweep_file, "sweep TOML")->required();
  slurm->add_option("--nodes", slurm_options.nodes, "nodes")->capture_default_str();
  slurm->add_option("--gpus-per-node", slurm_options.gpus_per_node, "GPUs per node, a rank each")
      ->capture_default_str();
  slurm->add_option("--ranks-per-node", slurm_options.ranks_per_node,
                    "ranks per node (default: the GPUs, or 1)");
  slurm->add_option("--cpus-per-rank", slurm_options.cpus_per_rank,
                    "cores per rank: --cpus-per-task and runtime.threads");
  slurm->add_option("--time", slurm_options.time, "time limit (HH:MM:SS, D-HH:MM, ...)")
      ->required();
  slurm->add_option("--partition", slurm_options.partition, "partition");
  slurm->add_option("--launcher", slurm_options.launcher, "srun (PMIx) or mpirun")
      ->capture_default_str();
  slurm->add_option("--srun-mpi", slurm_options.srun_mpi, "srun --mpi plugin (srun --mpi=list)")
      ->capture_default_str();
  slurm->add_option("--signal-lead", slurm_options.signal_lead_s,
                    "seconds before the time limit to checkpoint and requeue")
      ->capture_default_str();
  slurm->add_option("--script", slurm_options.script, "where to write (default slurm/<sweep>.sbatch)");
  slurm->add_option("--out", slurm_options.out, "the sweep's results file");
  slurm->add_option("--set", slurm_options.overrides, "override a key of every point (repeatable)");
  slurm->add_flag("--submit", slurm_options.submit, "submit the script with sbatch");

  // ptqat report RESULTS.h5 [--format md|latex|csv] [--plots DIR]
  CLI::App* report = app.add_subcommand(
      "report", "the paper-style comparison and ablation tables of a results file, and plots");
  std::string report_file;
  std::string report_format = "md";
  std::string report_plots;
  report->add_option("file", report_file, "results.h5")->required();
  report->add_option("--format", report_format, "md, latex or csv")->capture_default_str();
  report->add_option("--plots", report_plots, "also draw the figures as PNG into this folder");

  // ptqat results ls RESULTS.h5
  CLI::App* results = app.add_subcommand("results", "inspect HDF5 results files")
                          ->require_subcommand(1);
  CLI::App* results_ls =
      results->add_subcommand("ls", "one line per recorded stage: key, stage, method, metrics");
  std::string results_file;
  results_ls->add_option("file", results_file, "results.h5 (or one record file)")->required();
  bool results_json = false;
  results_ls->add_flag("--json", results_json, "one JSON object per line and stage, for scripts");
  CLI::App* results_merge = results->add_subcommand(
      "merge", "join results files (jobs of a Slurm array, separate sweeps) into a new one");
  std::vector<std::string> merge_inputs;
  std::string merge_output;
  results_merge->add_option("inputs", merge_inputs, "results files to merge")->required();
  results_merge->add_option("-o,--out", merge_output, "the merged results file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help, out, err);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help, out, err);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version, out, err);
  } catch (const CLI::ParseError& error) {
    err << "error: " << error.what() << " (see --help)\n";
    return error.get_exit_code() == 0 ? 2 : error.get_exit_code();
  }

  try {
    core::init_logging(log_level, job_rank(), job_size());
    core::install_preemption_signal(preempt_signal);
    if (*show) {
      out << resolved_toml(load_run_config(config_file, overrides));
    } else if (*keys) {
      RunConfig defaults;
      out << core::describe_fields(core::fields_of(defaults));
    } else if (*info) {
      print_data_info(info_options, out);
    } else if (*synth) {
      const auto summary = datasets::write_synth_dataset(synth_options, synth_out);
      out << fmt::format(
          "wrote {}: {} scenes, {} samples, {} sample_data, {} annotations in "
          "{:.1f} s ({:.1f} samples/s)\n",
          synth_out, summary.scenes, summary.samples, summary.sample_data, summary.annotations,
          summary.seconds, static_cast<double>(summary.samples) / summary.seconds);
    } else if (*gtdb) {
      build_gt_database_command(gtdb_options, out);
    } else if (*inspect) {
      print_data_file_summary(inspect_file, out);
    } else if (*train) {
      run_float_training(load_run_config(train_config, train_overrides), job_group(), out);
    } else if (*quantize) {
      for (const auto& [key, value] : quantize_values) {
        if (!value.empty()) quantize_overrides.push_back(key + "=" + value);
      }
      run_quantization(load_run_config(quantize_config, quantize_overrides), job_group(), out);
    } else if (*eval) {
      run_evaluation(eval_options, out);
    } else if (*import) {
      run_torch_import(import_options, out);
    } else if (*export_command) {
      run_torch_export(export_options, out);
    } else if (*sweep) {
      run_sweep(sweep_options, out);
    } else if (*slurm) {
      run_slurm(slurm_options, out);
    } else if (*report) {
      const ReportFormat format = parse_report_format(report_format);
      const std::vector<RunRecord> runs = read_results(report_file);
      const std::vector<ReportTable> tables = report_tables(runs);
      out << render_report(tables, format);
      if (!report_plots.empty()) {
        for (const std::string& png : write_report_plots(runs, tables, report_plots)) {
          out << "plot: " << png << "\n";
        }
      }
    } else if (*results_ls) {
      const std::vector<RunRecord> runs = read_results(results_file);
      out << (results_json ? results_json_lines(runs) : results_table(runs));
    } else if (*results_merge) {
      const MergeSummary merged = merge_results(merge_inputs, merge_output);
      out << fmt::format("merged {} runs of {} files into {}: {} stages ({} duplicates, the "
                         "latest kept)\n",
                         merged.runs_read, merge_inputs.size(), merge_output, merged.runs_written,
                         merged.duplicates);
    } else if (*bench_loader_command) {
      bench_loader(load_run_config(bench_config, bench_overrides), bench_batches, out);
    } else if (*bench_step_command) {
      if (step_memory_variant.empty()) {
        bench_step(step_options, out);
      } else {
        bench_step_memory_run(step_options, step_memory_variant, out);
      }
    }
  } catch (const core::Preempted& stop) {
    err << "preempted: " << stop.what() << "; run the same command again to resume\n";
    return core::kPreemptedExitCode;
  } catch (const Error& error) {
    err << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace ptqat::runner
