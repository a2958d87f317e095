// ptqat report RESULTS.h5 [--format md|latex|csv] [--plots DIR]

#include <memory>
#include <string>
#include <vector>

#include "results/report.h"
#include "results/report_plots.h"
#include "results/results_store.h"
#include "runner/commands/command.h"

namespace ptqat::runner {

void add_report_command(CLI::App& app, CommandTable& table) {
  struct ReportCommand {
    std::string file;
    std::string format = "md";
    std::string plots;
  };
  auto command = std::make_shared<ReportCommand>();
  CLI::App* report = app.add_subcommand(
      "report", "the paper-style comparison and ablation tables of a results file, and plots");
  report->add_option("file", command->file, "results.h5")->required();
  report->add_option("--format", command->format, "md, latex or csv")->capture_default_str();
  report->add_option("--plots", command->plots, "also draw the figures as PNG into this folder");
  table.push_back(
      {report, [command](std::ostream& out) {
         const results::ReportFormat format = results::parse_report_format(command->format);
         const std::vector<results::RunRecord> runs = results::read_results(command->file);
         const std::vector<results::ReportTable> tables = results::report_tables(runs);
         out << results::render_report(tables, format);
         if (command->plots.empty()) return;
         for (const std::string& png : results::write_report_plots(runs, tables, command->plots)) {
           out << "plot: " << png << "\n";
         }
       }});
}

}  // namespace ptqat::runner
