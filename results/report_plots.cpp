#include "results/report_plots.h"

#include <fmt/format.h>

#include <cctype>
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

/// A file name from a readable name: "detection-cnn/w4a8" -> "detection-cnn_w4a8".
std::string file_stem(std::string name) {
  for (char& c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) c = '_';
  }
  return name;
}

/// The start of a figure's script: its data inline (a datablock), so the script is the whole
/// figure, and its outputs beside the script wherever it is run from (ARG0 is the script).
std::string plot_header(const std::string& data, const std::string& title) {
  return fmt::format(
      "# Re-render from anywhere: gnuplot <this file>; PNG, PDF and SVG land beside it.\n"
      "$data << EOD\n{}EOD\n"
      "here = ARG0 eq '' ? '.' : system(sprintf(\"dirname '%s'\", ARG0))\n"
      "set title {} noenhanced\nset grid\nset key inside top right opaque box noenhanced\n",
      data, quoted(title));
}

/// The outputs: `plot` drawn as PNG (for a look), PDF and SVG (for papers).
std::string plot_outputs(const std::string& stem, const std::string& plot) {
  return fmt::format(
      "set terminal pngcairo size 900,540 font ',11'\nset output here.'/{0}.png'\n{1}\n"
      "set terminal pdfcairo size 6in,3.6in font ',9'\nset output here.'/{0}.pdf'\nreplot\n"
      "set terminal svg size 900,540 font ',11'\nset output here.'/{0}.svg'\nreplot\n",
      stem, plot);
}

std::string write_figure(const fs::path& dir, const std::string& stem, const std::string& script) {
  const fs::path path = dir / (stem + ".gp");
  core::write_file_durably(path.string(), script);
  run_gnuplot(path);
  return (dir / (stem + ".png")).string();
}

std::string ablation_plot(const ReportTable& table, const fs::path& dir) {
  std::string rows = "#";
  for (const std::string& name : table.header) rows += " " + file_stem(name);
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
  std::string plot = "plot ";
  for (size_t c = 1; c < table.header.size(); ++c) {
    const size_t mean = 2 * c;  // column 1 is the ratio, then (mean, std) per rule
    plot += fmt::format("{}$data using 1:{}:{} with yerrorlines lw 2 title {}", c > 1 ? ", " : "",
                        mean, mean + 1, quoted(table.header[c]));
  }
  const std::string script =
      plot_header(rows, table.title) +
      "set xlabel 'freeze ratio: share of layers frozen at PTQ (0 = full QAT, 1 = PTQ)'\n"
      "set ylabel " +
      quoted(table.value_name + " (mean ± std over seeds)") +
      "\nset xrange [-0.05:1.05]\nset format y '%.3f'\n" +
      plot_outputs("ablation_" + table.slug, plot);
  return write_figure(dir, "ablation_" + table.slug, script);
}

std::string layers_plot(const RunRecord& run, const fs::path& dir) {
  const std::string name = run.labels.name.empty() ? run.key.substr(0, 12) : run.labels.name;
  std::string rows = "# position discrepancy frozen name\n";
  size_t position = 0;
  for (const LayerRow& layer : run.layers) {
    if (layer.keep_float) continue;  // no quantizer, no discrepancy
    // Log scale: a zero discrepancy (a layer quantized exactly) is drawn at the axis floor.
    rows += fmt::format("{} {:.6g} {} {}\n", position++, std::max(layer.discrepancy, 1e-12),
                        layer.frozen ? 1 : 0, layer.name);
  }
  const std::string metric =
      run.labels.discrepancy_metric.empty() ? "discrepancy" : run.labels.discrepancy_metric;
  const std::string plot =
      "plot $data using 1:($3 == 0 ? $2 : NaN):xtic(4) with boxes lc rgb '#1f77b4' "
      "title 'fine-tuned', $data using 1:($3 == 1 ? $2 : NaN) with boxes lc rgb '#d62728' "
      "title 'frozen at PTQ'";
  const std::string script =
      plot_header(rows, name + ": per-layer quantization discrepancy") +
      fmt::format("set logscale y\nset format y '%.0e'\nset xrange [-0.5:{}]\n", position - 0.5) +
      "set xtics rotate by 90 right font ',7' noenhanced\nset xlabel 'layer (forward order)'\n"
      "set ylabel " +
      quoted(fmt::format("output discrepancy ({}, unitless)", metric)) +
      "\nset style fill solid 0.8 noborder\nset boxwidth 0.8\nset bmargin 9\n" +
      plot_outputs("layers_" + file_stem(name), plot);
  return write_figure(dir, "layers_" + file_stem(name), script);
}

}  // namespace

std::vector<std::string> write_report_plots(const std::vector<RunRecord>& runs,
                                            const std::vector<ReportTable>& tables,
                                            const std::string& dir) {
  fs::create_directories(dir);
  std::vector<std::string> pngs;
  for (const ReportTable& table : tables) {
    if (table.kind == ReportTable::Kind::kAblation) pngs.push_back(ablation_plot(table, dir));
  }
  for (const RunRecord& run : runs) {
    if (run.stage == "fine_tune" && run.method == "ptqat" && !run.layers.empty()) {
      pngs.push_back(layers_plot(run, dir));
    }
  }
  return pngs;
}

}  // namespace ptqat::results
