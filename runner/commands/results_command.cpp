// ptqat results ls RESULTS.h5 [--json] | ptqat results merge INPUTS... -o OUT |
// ptqat results export RESULTS.h5 --csv FILE

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "core/durable_file.h"
#include "results/results_listing.h"
#include "results/results_store.h"
#include "runner/commands/command.h"

namespace ptqat::runner {

void add_results_commands(CLI::App& app, CommandTable& table) {
  CLI::App* group =
      app.add_subcommand("results", "inspect HDF5 results files")->require_subcommand(1);

  struct ListCommand {
    std::string file;
    bool json = false;
  };
  auto list = std::make_shared<ListCommand>();
  CLI::App* ls =
      group->add_subcommand("ls", "one line per recorded stage: key, stage, method, metrics");
  ls->add_option("file", list->file, "results.h5 (or one record file)")->required();
  ls->add_flag("--json", list->json, "one JSON object per line and stage, for scripts");
  table.push_back({ls, [list](std::ostream& out) {
                     const std::vector<results::RunRecord> runs = results::read_results(list->file);
                     out << (list->json ? results::results_json_lines(runs)
                                        : results::results_table(runs));
                   }});

  struct ExportCommand {
    std::string file;
    std::string csv;
  };
  auto export_options = std::make_shared<ExportCommand>();
  CLI::App* export_app = group->add_subcommand(
      "export", "one CSV row per recorded stage: settings, seeds, every metric and cost");
  export_app->add_option("file", export_options->file, "results.h5 (or one record file)")
      ->required();
  export_app->add_option("--csv", export_options->csv, "the CSV file to write")->required();
  table.push_back({export_app, [export_options](std::ostream& out) {
                     const std::vector<results::RunRecord> runs =
                         results::read_results(export_options->file);
                     core::write_file_durably(export_options->csv, results::results_csv(runs));
                     out << fmt::format("{} runs of {} written to {}\n", runs.size(),
                                        export_options->file, export_options->csv);
                   }});

  struct MergeCommand {
    std::vector<std::string> inputs;
    std::string output;
  };
  auto merge = std::make_shared<MergeCommand>();
  CLI::App* merge_app = group->add_subcommand(
      "merge", "join results files (jobs of a Slurm array, separate sweeps) into a new one");
  merge_app->add_option("inputs", merge->inputs, "results files to merge")->required();
  merge_app->add_option("-o,--out", merge->output, "the merged results file")->required();
  table.push_back({merge_app, [merge](std::ostream& out) {
                     const results::MergeSummary merged =
                         results::merge_results(merge->inputs, merge->output);
                     out << fmt::format(
                         "merged {} runs of {} files into {}: {} stages ({} duplicates; the "
                         "latest version of a stage is its run, {} earlier versions kept as "
                         "superseded)\n",
                         merged.runs_read, merge->inputs.size(), merge->output, merged.runs_written,
                         merged.duplicates, merged.superseded_written);
                   }});
}

}  // namespace ptqat::runner
