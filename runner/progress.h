#pragma once
// Progress of long loops (an epoch, an evaluation, a calibration pass). On a terminal, one line
// redrawn in place: label, bar, count/total, percent, rate, ETA and a few named values. When
// stderr is a file or a pipe (Slurm logs, `ptqat ... 2> log`), plain log lines through spdlog
// every so many seconds or percent instead, so a log never fills with carriage returns. Only rank
// 0 shows progress; the other ranks' reporters do nothing. In a sweep, the status goes to the
// sweep's board instead (core/progress_sink.h), once a second.
//
//   ProgressReporter progress("epoch 3", loader.size(), world.rank());
//   for (...) { ...; progress.update(step + 1, {{"loss", loss}}); }
//   progress.finish();

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptqat::runner {

/// "01:02:03" for >= 1 h, "02:03" below; "--:--" for a negative, infinite or NaN duration.
std::string format_duration(double seconds);

/// Items per second as "12.3 it/s"; below one per second as "4.56 s/it"; "? it/s" when unknown
/// (zero, negative, infinite or NaN).
std::string format_rate(double items_per_second);

/// Named values as "loss=0.1234 lr=0.001" (4 significant digits).
std::string format_values(const std::vector<std::pair<std::string, double>>& values);

/// How progress is shown; the defaults suit the command line, tests inject clock and sinks.
struct ProgressOptions {
  enum class Mode { kAuto, kBar, kLines };
  /// kAuto: a bar when stderr is a terminal, lines otherwise.
  Mode mode = Mode::kAuto;
  /// Lines mode: a line when this many seconds have passed since the last one...
  double line_interval_s = 30.0;
  /// ...or when the count crosses another multiple of this percentage of the total (0 = off).
  double line_percent = 10.0;
  /// Bar mode: redraw at most this often (s), and on finish().
  double redraw_interval_s = 0.1;
  /// Seconds on a monotonic clock; empty = std::chrono::steady_clock.
  std::function<double()> clock;
  /// Lines mode: where a line goes; empty = spdlog::info.
  std::function<void(const std::string&)> line_sink;
  /// Bar mode: the stream redrawn with '\r'; null = stderr.
  std::FILE* bar_stream = nullptr;
};

/// Reports the progress of one loop of `total` items. Not thread-safe: call from the loop's
/// thread.
class ProgressReporter {
 public:
  /// `rank` != 0 makes every call a no-op. `total` 0 is allowed (an empty loop).
  ProgressReporter(std::string label, int64_t total, int rank, ProgressOptions options = {});
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  /// `count` items are done (cumulative, not an increment); `values` are shown next to it.
  void update(int64_t count, const std::vector<std::pair<std::string, double>>& values = {});
  /// Shows the final state once (a last line; the bar gets its newline). Called by the
  /// destructor if not before.
  void finish();

  /// The text shown at `count` after `elapsed_s` seconds, without the bar: "label: 120/500
  /// (24%) 12.3 it/s ETA 00:31 loss=0.123". Exposed for tests.
  std::string status_text(int64_t count, double elapsed_s,
                          const std::vector<std::pair<std::string, double>>& values) const;

 private:
  double now() const;
  /// How many multiples of line_percent `count` has reached (0 when off).
  int64_t percent_step(int64_t count) const;
  void emit(bool final);

  std::string label_;
  int64_t total_;
  bool active_;
  bool bar_;
  ProgressOptions options_;
  double start_s_ = 0.0;
  double last_emit_s_ = 0.0;
  int64_t last_percent_step_ = 0;
  size_t last_width_ = 0;
  bool finished_ = false;
  int64_t count_ = 0;
  std::vector<std::pair<std::string, double>> values_;
};

/// `body`, which a pass calls with the items 0..count-1 in order (the calibration and
/// discrepancy passes of quant/, which may call an item twice in a row), with the progress of
/// each pass: "<label> pass k: 3/8 ...".
std::function<void(int64_t)> with_pass_progress(std::string label, int64_t count, int rank,
                                                std::function<void(int64_t)> body);

}  // namespace ptqat::runner
