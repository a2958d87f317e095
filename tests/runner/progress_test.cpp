#include "runner/progress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace ptqat::runner {
namespace {

/// A fake clock and a line collector, so that tests never sleep.
struct Harness {
  double now = 0.0;
  std::vector<std::string> lines;
  ProgressOptions options(ProgressOptions::Mode mode = ProgressOptions::Mode::kLines) {
    ProgressOptions result;
    result.mode = mode;
    result.clock = [this] { return now; };
    result.line_sink = [this](const std::string& line) { lines.push_back(line); };
    return result;
  }
};

/// A temporary file (not a terminal) standing in for stderr.
struct TempStream {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::tmpfile(), &std::fclose};
  std::string contents() {
    std::fflush(file.get());
    std::rewind(file.get());
    std::string text;
    char buffer[256];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
    return text;
  }
};

TEST(ProgressFormat, DurationsAsMinutesSecondsOrHours) {
  EXPECT_EQ(format_duration(0.0), "00:00");
  EXPECT_EQ(format_duration(59.4), "00:59");
  EXPECT_EQ(format_duration(61.0), "01:01");
  EXPECT_EQ(format_duration(3723.0), "01:02:03");  // 1 h 2 min 3 s
  EXPECT_EQ(format_duration(-1.0), "--:--");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::infinity()), "--:--");
  EXPECT_EQ(format_duration(std::nan("")), "--:--");
}

TEST(ProgressFormat, RatesAsItemsPerSecondOrSecondsPerItem) {
  EXPECT_EQ(format_rate(12.34), "12.3 it/s");
  EXPECT_EQ(format_rate(0.25), "4.00 s/it");
  EXPECT_EQ(format_rate(0.0), "? it/s");
  EXPECT_EQ(format_values({{"loss", 0.123456}, {"lr", 0.001}}), "loss=0.1235 lr=0.001");
}

TEST(ProgressFormat, StatusShowsCountPercentRateEtaAndValues) {
  Harness harness;
  const ProgressReporter progress("epoch 3", 500, 0, harness.options());
  // 120 items in 10 s: 12 it/s; 380 left take 31.7 s.
  EXPECT_EQ(progress.status_text(120, 10.0, {{"loss", 0.5}}),
            "epoch 3: 120/500 (24%) 12.0 it/s ETA 00:32 loss=0.5");
  EXPECT_EQ(progress.status_text(0, 0.0, {}), "epoch 3: 0/500 (0%) ? it/s ETA --:--");
  EXPECT_EQ(progress.status_text(500, 125.0, {}), "epoch 3: 500/500 (100%) 4.0 it/s in 02:05");
}

TEST(ProgressReporter, LinesEveryGivenPercentAndOneFinalLine) {
  Harness harness;
  ProgressOptions options = harness.options();
  options.line_interval_s = 1e9;
  options.line_percent = 25.0;
  ProgressReporter progress("train", 100, 0, options);
  for (int64_t count = 1; count <= 100; ++count) {
    harness.now = 0.5 * static_cast<double>(count);  // 2 items per second
    progress.update(count, {{"loss", 1.0 / static_cast<double>(count)}});
  }
  progress.finish();
  progress.finish();  // a second finish adds nothing
  ASSERT_EQ(harness.lines.size(), 4u);
  // At 25 items after 12.5 s, 75 items at 2 it/s take 37.5 s (rounded to 38).
  EXPECT_EQ(harness.lines[0], "train: 25/100 (25%) 2.0 it/s ETA 00:38 loss=0.04");
  EXPECT_EQ(harness.lines[1].rfind("train: 50/100 (50%)", 0), 0u);
  EXPECT_EQ(harness.lines[2].rfind("train: 75/100 (75%)", 0), 0u);
  EXPECT_EQ(harness.lines[3], "train: 100/100 (100%) 2.0 it/s in 00:50 loss=0.01");
}

TEST(ProgressReporter, LinesEveryGivenInterval) {
  Harness harness;
  ProgressOptions options = harness.options();
  options.line_interval_s = 10.0;
  options.line_percent = 0.0;  // off
  ProgressReporter progress("eval", 1000, 0, options);
  for (int64_t count = 1; count <= 35; ++count) {
    harness.now = static_cast<double>(count);
    progress.update(count);
  }
  ASSERT_EQ(harness.lines.size(), 3u);  // at 10, 20 and 30 s
  // 990 items left at 1 it/s: 16 min 30 s.
  EXPECT_EQ(harness.lines[0], "eval: 10/1000 (1%) 1.0 it/s ETA 16:30");
  EXPECT_EQ(harness.lines[2].rfind("eval: 30/1000 (3%)", 0), 0u);
  progress.finish();
  EXPECT_EQ(harness.lines.size(), 4u);
}

TEST(ProgressReporter, OtherRanksShowNothing) {
  Harness harness;
  TempStream stream;
  {
    ProgressOptions options = harness.options(ProgressOptions::Mode::kBar);
    options.bar_stream = stream.file.get();
    ProgressReporter bar("train", 10, 1, options);
    ProgressReporter lines("train", 10, 3, harness.options());
    for (int64_t count = 1; count <= 10; ++count) {
      harness.now += 100.0;
      bar.update(count);
      lines.update(count);
    }
  }  // the destructors finish
  EXPECT_TRUE(harness.lines.empty());
  EXPECT_EQ(stream.contents(), "");
}

TEST(ProgressReporter, BarRedrawsInPlaceAndEndsWithANewline) {
  Harness harness;
  TempStream stream;
  ProgressOptions options = harness.options(ProgressOptions::Mode::kBar);
  options.bar_stream = stream.file.get();
  options.redraw_interval_s = 0.0;
  {
    ProgressReporter progress("train", 4, 0, options);
    for (int64_t count = 1; count <= 3; ++count) {
      harness.now = static_cast<double>(count);
      progress.update(count);
    }
  }
  const std::string text = stream.contents();
  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line, redrawn
  EXPECT_NE(text.find("[###############.....] train: 3/4 (75%) 1.0 it/s ETA 00:01"),
            std::string::npos);
  EXPECT_TRUE(harness.lines.empty());
}

TEST(ProgressReporter, AutoModeNeverWritesABarIntoAFile) {
  Harness harness;
  TempStream stream;
  ProgressOptions options = harness.options(ProgressOptions::Mode::kAuto);
  options.bar_stream = stream.file.get();
  options.line_percent = 50.0;
  {
    ProgressReporter progress("calibrate", 2, 0, options);
    harness.now = 1.0;
    progress.update(1);
    harness.now = 2.0;
    progress.update(2);
  }
  EXPECT_EQ(stream.contents(), "");
  ASSERT_EQ(harness.lines.size(), 2u);
  EXPECT_EQ(harness.lines[1], "calibrate: 2/2 (100%) 1.0 it/s in 00:02");
}

}  // namespace
}  // namespace ptqat::runner
