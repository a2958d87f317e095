// ptqat data info | synth | inspect | gtdb

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "core/resources.h"
#include "datasets/data_summary.h"
#include "datasets/gt_database.h"
#include "datasets/synth/synth_dataset.h"
#include "runner/commands/command.h"
#include "runner/run_config.h"

namespace ptqat::runner {
namespace {

struct GtDatabaseOptions {
  std::string config_file;  ///< the run config whose data.* (train split, sweeps, frame, lidarseg)
  std::vector<std::string> overrides;
  std::string out;         ///< the database file to write
  int64_t min_points = 5;  ///< objects with fewer points inside their box are left out
};

/// Builds the database of the config's training split and writes it; prints objects per class.
void build_gt_database_command(const GtDatabaseOptions& options, std::ostream& out) {
  const RunConfig config = load_run_config(options.config_file, options.overrides);
  const core::Stopwatch stopwatch;
  const auto index =
      std::make_shared<const datasets::NuScenes>(config.data.dataroot, config.data.version);
  const datasets::NuScenesDataset train(index, config.data.train_split, config.data);
  const datasets::GroundTruthDatabase database =
      datasets::build_gt_database(train, options.min_points);
  datasets::write_gt_database(database, options.out);
  out << fmt::format(
      "{}: {} objects, {} points from {} samples of {} ({} sweeps, {} frame) in {:.1f} s\n",
      options.out, database.objects.size(), database.points.size(0), train.size(),
      config.data.train_split, database.nsweeps, database.frame, stopwatch.seconds());
  for (size_t c = 0; c < database.by_class.size(); ++c) {
    out << fmt::format("  {:<22} {:>7}\n", datasets::kDetectionNames[c],
                       database.by_class[c].size());
  }
}

void add_info(CLI::App& data, CommandTable& table) {
  auto options = std::make_shared<datasets::DataInfoOptions>();
  CLI::App* info = data.add_subcommand("info", "index a dataset and print its statistics");
  info->add_option("--dataroot", options->dataroot, "folder holding <version>/")->required();
  info->add_option("--version", options->version, "version folder, e.g. v1.0-mini")->required();
  info->add_option("--max-samples", options->max_samples,
                   "keyframes read for point and label statistics")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  info->add_option("--occupancy-dir", options->occupancy_dir,
                   "Occ3D gts folder relative to the dataroot")
      ->capture_default_str();
  table.push_back(
      {info, [options](std::ostream& out) { datasets::print_data_info(*options, out); }});
}

void add_synth(CLI::App& data, CommandTable& table) {
  struct SynthCommand {
    datasets::SynthOptions options;
    std::string out;
  };
  auto command = std::make_shared<SynthCommand>();
  datasets::SynthOptions& options = command->options;
  CLI::App* synth = data.add_subcommand(
      "synth", "write a synthetic dataset in the nuScenes format (tables, LiDAR, lidarseg, Occ3D)");
  synth->add_option("--out", command->out, "dataroot to write")->required();
  synth
      ->add_option("--preset", options.preset,
                   "tiny (tests), demo (the demo), trainval (v1.0-trainval scale)")
      ->capture_default_str();
  synth->add_option("--scenes", options.scenes, "scenes (default: the preset's)");
  synth->add_option("--samples", options.samples_per_scene,
                    "keyframes per scene, 2 Hz (default: the preset's)");
  synth->add_option("--val-scenes", options.val_scenes,
                    "scenes of synth_val, the reported split (default: the preset's, ~15 %)");
  synth->add_option("--select-scenes", options.select_scenes,
                    "scenes of synth_select, held out to choose checkpoints on (default: the "
                    "preset's, ~5 %)");
  synth->add_option("--seed", options.seed, "seed; the same seed gives identical files")
      ->capture_default_str();
  synth->add_option("--version", options.version, "version folder name")->capture_default_str();
  synth->add_flag("--tables-only", options.tables_only, "write the tables only, no sensor files");
  table.push_back({synth, [command](std::ostream& out) {
                     const auto summary =
                         datasets::write_synth_dataset(command->options, command->out);
                     out << fmt::format(
                         "wrote {}: {} scenes, {} samples, {} sample_data, {} annotations in "
                         "{:.1f} s ({:.1f} samples/s)\n",
                         command->out, summary.scenes, summary.samples, summary.sample_data,
                         summary.annotations, summary.seconds,
                         static_cast<double>(summary.samples) / summary.seconds);
                   }});
}

void add_inspect(CLI::App& data, CommandTable& table) {
  auto file = std::make_shared<std::string>();
  CLI::App* inspect =
      data.add_subcommand("inspect", "summarise one .pcd.bin, _lidarseg.bin or .npz file");
  inspect->add_option("file", *file, "the file")->required();
  table.push_back(
      {inspect, [file](std::ostream& out) { datasets::print_data_file_summary(*file, out); }});
}

void add_gtdb(CLI::App& data, CommandTable& table) {
  auto options = std::make_shared<GtDatabaseOptions>();
  CLI::App* gtdb = data.add_subcommand(
      "gtdb", "build the ground-truth database of GT-paste augmentation from the training split");
  gtdb->add_option("config,--config", options->config_file, "TOML run config (its data.*)")
      ->required();
  gtdb->add_option("--set", options->overrides, "override a key (repeatable)");
  gtdb->add_option("--out", options->out, "the database file to write (HDF5)")->required();
  gtdb->add_option("--min-points", options->min_points, "leave out objects with fewer points")
      ->capture_default_str();
  table.push_back(
      {gtdb, [options](std::ostream& out) { build_gt_database_command(*options, out); }});
}

}  // namespace

void add_data_commands(CLI::App& app, CommandTable& table) {
  CLI::App* data =
      app.add_subcommand("data", "inspect nuScenes-format data")->require_subcommand(1);
  add_info(*data, table);
  add_synth(*data, table);
  add_inspect(*data, table);
  add_gtdb(*data, table);
}

}  // namespace ptqat::runner
