#include "sweeps/sweep_board.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ptqat::sweeps {
namespace {

/// A float model, its calibration and two fine-tunes; the float model is recorded.
StageGraph graph() {
  StageGraph graph;
  graph.add({"f", "", "float_train", "", 0, "detection-cnn/float"});
  graph.add({"c", "f", "calibrate", "", 0, "detection-cnn/w4a8/ptq"});
  graph.add({"q0", "c", "fine_tune", "", 0, "detection-cnn/w4a8/qat/seed0"});
  graph.add({"q1", "c", "fine_tune", "", 1, "detection-cnn/w4a8/qat/seed1"});
  return graph;
}

struct Clock {
  double now = 0;
};

BoardOptions options(BoardOptions::Mode mode, Clock& clock) {
  BoardOptions options;
  options.mode = mode;
  options.clock = [&clock] { return clock.now; };
  options.timestamp = [&clock] { return "t=" + std::to_string(static_cast<int>(clock.now)); };
  options.status_interval_s = 60;
  options.width = 80;
  return options;
}

StageTimes times() {
  StageTimes times;
  times.classes = {"float", "calibrate", "qat", "qat"};
  times.recorded_s = {{"calibrate", {20.0}}, {"qat", {100.0, 140.0}}};  // qat: 120 s each
  return times;
}

TEST(SweepBoard, CountsStagesAndEstimatesTheTimeLeftFromRecordedStagesOfTheSameClass) {
  const StageGraph stages = graph();
  Clock clock;
  std::ostringstream out;
  SweepBoard board(stages, {true, false, false, false}, 2, times(), out,
                   options(BoardOptions::Mode::kLines, clock));
  // 20 s of calibration and 2 x 120 s of fine-tunes over two groups.
  EXPECT_EQ(board.summary(), "1/4 stages done, 0 running, ETA 02:10");
  board.started(1, 0);
  clock.now = 15;
  EXPECT_EQ(board.summary(), "1/4 stages done, 1 running, ETA 02:03");  // (5 + 240) / 2
  board.finished(1, 0, 15);
  board.started(2, 0);
  board.started(3, 1);
  clock.now = 75;  // 60 s into both fine-tunes
  EXPECT_EQ(board.summary(), "2/4 stages done, 2 running, ETA 01:00");
  board.finished(2, 0, 60);
  board.finished(3, 1, 60);
  EXPECT_EQ(board.summary(), "4/4 stages done, 0 running");

  // A class without a recorded time makes the ETA a lower bound.
  StageTimes unknown = times();
  unknown.recorded_s.erase("qat");
  SweepBoard partly(stages, {true, false, false, false}, 1, unknown, out,
                    options(BoardOptions::Mode::kLines, clock));
  EXPECT_EQ(partly.summary(), "1/4 stages done, 0 running, ETA >= 00:20 (2 not yet timed)");

  // A class without times takes its wider class's: "fine_tune qat" those of "fine_tune ...".
  StageTimes wider;
  wider.classes = {"float", "calibrate", "fine_tune qat", "fine_tune qat"};
  wider.recorded_s = {{"calibrate", {20.0}}, {"fine_tune ptqat", {60.0}}};
  SweepBoard widened(stages, {true, false, false, false}, 1, wider, out,
                     options(BoardOptions::Mode::kLines, clock));
  EXPECT_EQ(widened.summary(), "1/4 stages done, 0 running, ETA 02:20");  // 20 + 2 x 60
}

TEST(SweepBoard, InALogEveryLineIsTimestampedAndEachGroupsProgressIsPrintedAtIntervals) {
  const StageGraph stages = graph();
  Clock clock;
  std::ostringstream out;
  {
    SweepBoard board(stages, {true, true, false, false}, 2, times(), out,
                     options(BoardOptions::Mode::kLines, clock));
    board.started(2, 0);
    board.started(3, 1);
    board.status(1, "train epoch 1/2: 3/10 (30%)");
    EXPECT_EQ(out.str().find("group 1: detection-cnn"), std::string::npos);  // not yet due
    clock.now = 61;
    board.status(0, "evaluation: 1/4 (25%)");
    board.finished(2, 0, 61);
    board.status(0, "late progress of a finished stage");
  }
  const std::string log = out.str();
  EXPECT_NE(log.find("[t=0] start detection-cnn/w4a8/qat/seed0 [fine_tune q0] (group 0)\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("[t=61] sweep: 2/4 stages done, 2 running, ETA 00:59\n"), std::string::npos)
      << log;
  EXPECT_NE(log.find("[t=61]   group 0: detection-cnn/w4a8/qat/seed0 (01:01)  evaluation: 1/4 "
                     "(25%)\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("[t=61]   group 1: detection-cnn/w4a8/qat/seed1 (01:01)  train epoch 1/2: "
                     "3/10 (30%)\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("[t=61] done  detection-cnn/w4a8/qat/seed0 [fine_tune q0] (group 0, 61.0 "
                     "s); 3/4 stages done, 1 running"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("late progress"), std::string::npos) << log;
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << log;
}

TEST(SweepBoard, AtATerminalTheStatusBlockIsRedrawnInPlaceBelowTheLog) {
  const StageGraph stages = graph();
  Clock clock;
  std::ostringstream out;
  {
    SweepBoard board(stages, {true, true, false, false}, 2, times(), out,
                     options(BoardOptions::Mode::kLive, clock));
    board.started(2, 0);  // prints the line, then the block of 3 lines
    clock.now = 1;
    board.status(0, std::string(200, 'x'));  // clipped to the terminal's 80 columns
  }
  const std::string screen = out.str();
  EXPECT_NE(screen.find("start detection-cnn/w4a8/qat/seed0 [fine_tune q0] (group 0)\nsweep: "),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("  group 1: idle\n"), std::string::npos) << screen;
  EXPECT_NE(screen.find("\x1b[3F\x1b[J"), std::string::npos) << screen;  // up 3 lines, clear
  EXPECT_NE(screen.find("xxx...\n"), std::string::npos) << screen;
  EXPECT_EQ(screen.find(std::string(80, 'x')), std::string::npos) << screen;
  // Closed: the block is cleared last.
  EXPECT_EQ(screen.rfind("\x1b[3F\x1b[J"), screen.size() - 7) << screen;
}

}  // namespace
}  // namespace ptqat::sweeps
