#include "runner/progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/progress_sink.h"

namespace ptqat::runner {
namespace {

constexpr int kBarWidth = 20;
// To a sweep's board (core/progress_sink.h): often enough to watch, rarely enough for MPI.
constexpr double kForwardInterval_s = 1.0;

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) return "--:--";
  const long long total = std::llround(seconds);
  const long long hours = total / 3600, minutes = total / 60 % 60, secs = total % 60;
  if (hours > 0) return fmt::format("{:02}:{:02}:{:02}", hours, minutes, secs);
  return fmt::format("{:02}:{:02}", minutes, secs);
}

std::string format_rate(double items_per_second) {
  if (!std::isfinite(items_per_second) || items_per_second <= 0.0) return "? it/s";
  if (items_per_second >= 1.0) return fmt::format("{:.1f} it/s", items_per_second);
  return fmt::format("{:.2f} s/it", 1.0 / items_per_second);
}

std::string format_values(const std::vector<std::pair<std::string, double>>& values) {
  std::string text;
  for (const auto& [name, value] : values) {
    if (!text.empty()) text += ' ';
    text += fmt::format("{}={:.4g}", name, value);
  }
  return text;
}

ProgressReporter::ProgressReporter(std::string label, int64_t total, int rank,
                                   ProgressOptions options)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 0)),
      active_(rank == 0),
      options_(std::move(options)) {
  if (options_.bar_stream == nullptr) options_.bar_stream = stderr;
  using Mode = ProgressOptions::Mode;
  bar_ = options_.mode == Mode::kBar ||
         (options_.mode == Mode::kAuto && ::isatty(::fileno(options_.bar_stream)) == 1);
  start_s_ = last_emit_s_ = now();
}

ProgressReporter::~ProgressReporter() {
  try {
    finish();
  } catch (...) {  // a failed last progress line must not end the program
  }
}

double ProgressReporter::now() const {
  return options_.clock ? options_.clock() : steady_seconds();
}

void ProgressReporter::update(int64_t count,
                              const std::vector<std::pair<std::string, double>>& values) {
  if (!active_ || finished_) return;
  count_ = count;
  values_ = values;
  const double since_last = now() - last_emit_s_;
  if (core::progress_sink()) {
    if (since_last >= kForwardInterval_s) emit(false);
    return;
  }
  if (bar_) {
    if (since_last >= options_.redraw_interval_s) emit(false);
    return;
  }
  // The line for the last item is finish()'s, so that a loop ends with exactly one 100% line.
  if (count >= total_) return;
  if (percent_step(count) > last_percent_step_ || since_last >= options_.line_interval_s) {
    emit(false);
  }
}

int64_t ProgressReporter::percent_step(int64_t count) const {
  if (total_ == 0 || options_.line_percent <= 0.0) return 0;
  const double percent = 100.0 * static_cast<double>(count) / static_cast<double>(total_);
  return static_cast<int64_t>(std::floor(percent / options_.line_percent));
}

void ProgressReporter::finish() {
  if (!active_ || finished_) return;
  finished_ = true;
  emit(true);
}

std::string ProgressReporter::status_text(
    int64_t count, double elapsed_s,
    const std::vector<std::pair<std::string, double>>& values) const {
  const double rate = elapsed_s > 0.0 ? static_cast<double>(count) / elapsed_s : 0.0;
  const int64_t percent = total_ > 0 ? 100 * count / total_ : 100;
  std::string text =
      fmt::format("{}: {}/{} ({}%) {}", label_, count, total_, percent, format_rate(rate));
  if (count >= total_) {
    text += " in " + format_duration(elapsed_s);
  } else {
    const double eta = rate > 0.0 ? static_cast<double>(total_ - count) / rate : -1.0;
    text += " ETA " + format_duration(eta);
  }
  if (!values.empty()) text += ' ' + format_values(values);
  return text;
}

void ProgressReporter::emit(bool final) {
  const double t = now();
  last_emit_s_ = t;
  const std::string status = status_text(count_, t - start_s_, values_);
  if (const core::ProgressSink& sink = core::progress_sink()) {
    sink(status);
    return;
  }
  if (!bar_) {
    last_percent_step_ = percent_step(count_);
    if (options_.line_sink) {
      options_.line_sink(status);
    } else {
      spdlog::info("{}", status);
    }
    return;
  }
  const double fraction =
      total_ > 0 ? std::clamp(static_cast<double>(count_) / static_cast<double>(total_), 0.0, 1.0)
                 : 1.0;
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string line =
      '[' + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] " + status;
  // Spaces over what is left of a longer previous line.
  const size_t width = line.size();
  if (width < last_width_) line += std::string(last_width_ - width, ' ');
  last_width_ = width;
  std::fprintf(options_.bar_stream, "\r%s%s", line.c_str(), final ? "\n" : "");
  std::fflush(options_.bar_stream);
}

std::function<void(int64_t)> with_pass_progress(std::string label, int64_t count, int rank,
                                                std::function<void(int64_t)> body) {
  struct Passes {
    int pass = 0;
    int64_t last_item = -1;
    std::unique_ptr<ProgressReporter> reporter;
  };
  auto passes = std::make_shared<Passes>();
  return [label = std::move(label), count, rank, body = std::move(body), passes](int64_t item) {
    // A pass may call an item more than once (a float, then a quantized forward): a new pass
    // starts where the items go back.
    if (!passes->reporter || item < passes->last_item) {
      passes->reporter.reset();  // finishes the previous pass
      ProgressOptions quiet;     // in a log: a line every 30 s and the last, not every 10 %
      quiet.line_percent = 0;
      passes->reporter = std::make_unique<ProgressReporter>(
          fmt::format("{} pass {}", label, ++passes->pass), count, rank, quiet);
    }
    passes->last_item = item;
    body(item);
    passes->reporter->update(item + 1);
    if (item + 1 == count) passes->reporter->finish();
  };
}

}  // namespace ptqat::runner
