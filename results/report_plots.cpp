#include "results/report_plots.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/durable_file.h"
#include "core/error.h"

namespace ptqat::results {
namespace {

namespace fs = std::filesystem;

/// gnuplot's string syntax: single quotes, a quote doubled.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

/// Runs gnuplot on `script`; its stderr lands in <script>.log for the error message.
void run_gnuplot(const fs::path& script) {
  const std::string log = script.string() + ".log";
  const int status = std::system(
      fmt::format("gnuplot {} > {} 2>&1", quoted(script.string()), quoted(log)).c_str());
  if (status == 0) {
    fs::remove(log);
    return;
  }
  PTQAT_CHECK(std::system("command -v gnuplot > /dev/null 2>&1") == 0, IoError,
              "report --plots: gnuplot not found (Debian package gnuplot-nox; "
              "scripts/install_deps.sh installs it)");
  std::ifstream file(log);
  std::string message((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  for (char& c : message) c = c == '\n' ? ' ' : c;
  PTQAT_FAIL(IoError, "report --plots: gnuplot failed on {}: {}", script.string(), message);
}

std::string plot_header(const fs::path& png, const std::string& title) {
  return fmt::format(
      "set terminal pngcairo size 900,540 noenhanced font ',11'\nset output {}\nset title {}\n"
      "set grid\nset key outside right\n",
      quoted(png.string()), quoted(title));
}

std::string ablation_plot(const ReportTable& table, const fs::path& dir, size_t index) {
  const fs::path data = dir / fmt::format("ablation_{}.dat", index);
  const fs::path script = dir / fmt::format("ablation_{}.gp", index);
  const fs::path png = dir / fmt::format("ablation_{}.png", index);
  std::string rows = "# " + table.title + "\n#";
  for (const std::string& name : table.header) rows += " " + name;
  rows += "\n";
  for (const auto& row : table.rows) {
    rows += row[0].text;
    for (size_t c = 1; c < row.size(); ++c) {
      rows += row[c].kind == ReportCell::Kind::kStat && row[c].stat.count > 0
                  ? fmt::format(" {:.6g} {:.6g}", row[c].stat.mean, row[c].stat.stddev)
                  : " NaN NaN";
    }
    rows += "\n";
  }
  core::write_file_durably(data.string(), rows);
  std::string plot = plot_header(png, table.title) +
                     "set xlabel 'freeze ratio (0 = full QAT, 1 = PTQ)'\nset ylabel " +
                     quoted(table.value_name) + "\nset xrange [-0.05:1.05]\nplot ";
  for (size_t c = 1; c < table.header.size(); ++c) {
    const size_t mean = 2 * c;  // column 1 is the ratio, then (mean, std) per rule
    plot += fmt::format("{}{} using 1:{}:{} with yerrorlines lw 2 title {}", c > 1 ? ", " : "",
                        quoted(data.string()), mean, mean + 1, quoted(table.header[c]));
  }
  core::write_file_durably(script.string(), plot + "\n");
  run_gnuplot(script);
  return png.string();
}

std::string layers_plot(const RunRecord& run, const fs::path& dir) {
  const std::string name = "layers_" + run.key.substr(0, 12);
  const fs::path data = dir / (name + ".dat");
  const fs::path script = dir / (name + ".gp");
  const fs::path png = dir / (name + ".png");
  std::string rows = "# forward_index discrepancy frozen name\n";
  for (const LayerRow& layer : run.layers) {
    if (layer.keep_float) continue;  // no quantizer, no discrepancy
    // Log scale: a zero discrepancy (a layer quantized exactly) is drawn at the axis floor.
    rows += fmt::format("{} {:.6g} {} {}\n", layer.forward_index,
                        std::max(layer.discrepancy, 1e-12), layer.frozen ? 1 : 0, layer.name);
  }
  core::write_file_durably(data.string(), rows);
  const std::string title =
      fmt::format("layer discrepancy, {} PTQAT freeze {:g} rule {} (run {})", run.labels.bits,
                  run.labels.freeze_ratio, run.labels.rule, run.key.substr(0, 12));
  const std::string plot =
      plot_header(png, title) +
      "set logscale y\nset xlabel 'layer (forward order)'\nset ylabel 'discrepancy'\n"
      "set style fill solid 0.8 noborder\nset boxwidth 0.8\n"
      "plot " +
      quoted(data.string()) +
      " using 1:($3 == 0 ? $2 : NaN) with boxes lc rgb '#1f77b4' "
      "title 'trainable', " +
      quoted(data.string()) +
      " using 1:($3 == 1 ? $2 : NaN) with boxes lc rgb '#d62728' title 'frozen at PTQ'\n";
  core::write_file_durably(script.string(), plot);
  run_gnuplot(script);
  return png.string();
}

}  // namespace

std::vector<std::string> write_report_plots(const std::vector<RunRecord>& runs,
                                            const std::vector<ReportTable>& tables,
                                            const std::string& dir) {
  fs::create_directories(dir);
  std::vector<std::string> pngs;
  size_t ablations = 0;
  for (const ReportTable& table : tables) {
    if (table.kind == ReportTable::Kind::kAblation) {
      pngs.push_back(ablation_plot(table, dir, ablations++));
    }
  }
  for (const RunRecord& run : runs) {
    if (run.stage == "fine_tune" && run.method == "ptqat" && !run.layers.empty()) {
      pngs.push_back(layers_plot(run, dir));
    }
  }
  return pngs;
}

}  // namespace ptqat::results
