#pragma once
// What a running sweep shows on world rank 0 (docs/sweeps.md "Watching a sweep"): the stages
// done of the total, each group's running stage by name with its latest progress (the epoch,
// calibration or evaluation of the stage, forwarded by the group's leader), and an ETA from the
// recorded wall times of stages of the same class.
//
// On a terminal the status is a block of lines redrawn in place under the start/done lines; in
// a file or a pipe (Slurm logs) every line is timestamped and the status is printed every
// `status_interval_s`. Thread-safe: the scheduler's coordinator thread and rank 0's stage
// thread both report to it.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sweeps/stage_graph.h"

namespace ptqat::sweeps {

/// How long stages take, to estimate the time left. A class groups stages alike in cost, from
/// the most to the least telling word: "fine_tune detection-cnn ptqat". A class without times
/// takes those of its widest known prefix ("fine_tune detection-cnn", then "fine_tune").
struct StageTimes {
  std::vector<std::string> classes;                       ///< per graph node; empty: all unknown
  std::map<std::string, std::vector<double>> recorded_s;  ///< wall seconds seen per class
};

struct BoardOptions {
  enum class Mode { kAuto, kLive, kLines };
  /// kAuto: kLive when stdout is a terminal (under mpirun: mpirun's stdout), or as
  /// PTQAT_PROGRESS=live|lines says.
  Mode mode = Mode::kAuto;
  double status_interval_s = 60;   ///< kLines: the status this often
  double redraw_interval_s = 0.5;  ///< kLive: redraw at most this often
  int width = 0;                   ///< kLive: the terminal's columns; 0: asked of stdout (or 120)
  std::function<double()> clock;   ///< monotonic seconds; empty: steady_clock
  std::function<std::string()> timestamp;  ///< "2026-12-04 14:03:05"; empty: UTC now
};

class SweepBoard {
 public:
  SweepBoard(const StageGraph& graph, const std::vector<bool>& done, int groups, StageTimes times,
             std::ostream& out, BoardOptions options = {});
  ~SweepBoard();
  SweepBoard(const SweepBoard&) = delete;
  SweepBoard& operator=(const SweepBoard&) = delete;

  void started(size_t node, int group);
  void finished(size_t node, int group, double seconds);
  /// The latest progress of `group`'s running stage; ignored when the group runs none.
  void status(int group, const std::string& text);
  /// Another line for the log ("group 1 stopped its stage for preemption").
  void note(const std::string& line);
  /// Redraws or prints the status when it is due.
  void tick();
  /// "12/68 stages done, 2 running, ETA 01:02:03" ("ETA >= 00:20 (3 not yet timed)" when some
  /// stages have no time to go by, "ETA ? (3 not yet timed)" when none has).
  std::string summary() const;

 private:
  struct Running {
    size_t node = 0;
    double started_s = 0;
    std::string status;
  };
  double now() const;
  std::string summary_locked() const;
  std::vector<std::string> block_locked() const;
  void print_line_locked(const std::string& line);
  void clear_block_locked();
  void draw_block_locked();
  std::optional<double> expected_s(size_t node) const;

  const StageGraph& graph_;
  std::vector<bool> done_;
  int groups_;
  StageTimes times_;
  std::ostream& out_;
  BoardOptions options_;
  bool live_ = false;
  std::map<int, Running> running_;  ///< by group
  size_t block_lines_ = 0;          ///< kLive: lines of the block on screen
  double last_draw_s_ = -1e300;
  mutable std::mutex mutex_;
};

}  // namespace ptqat::sweeps
