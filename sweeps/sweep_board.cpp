#include "sweeps/sweep_board.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <numeric>

namespace ptqat::sweeps {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", utc);
}

/// "01:02:03" or "02:03" (the runner's progress format, which this library cannot depend on).
std::string duration_text(double seconds) {
  const long long total = std::llround(std::max(seconds, 0.0));
  const long long hours = total / 3600, minutes = total / 60 % 60, secs = total % 60;
  if (hours > 0) return fmt::format("{:02}:{:02}:{:02}", hours, minutes, secs);
  return fmt::format("{:02}:{:02}", minutes, secs);
}

/// A stage in the log: its name, stage and key ("detection-cnn/w4a8/qat/seed0 [fine_tune
/// 3f2a...]").
std::string line_of(const StageNode& node) {
  if (node.name.empty()) return fmt::format("{} {} {}", node.stage, node.key, node.description);
  return fmt::format("{} [{} {}]", node.name, node.stage, node.key);
}

/// Whether the sweep's stdout ends at a terminal. PTQAT_PROGRESS=live or lines decides outright.
/// Under mpirun a rank's stdout is a pseudo-terminal whatever mpirun's own stdout is (a pipe, a
/// Slurm log), so there mpirun's (the parent's) decides.
bool stdout_is_terminal() {
  if (const char* forced = std::getenv("PTQAT_PROGRESS")) return std::string(forced) == "live";
  if (::isatty(STDOUT_FILENO) != 1) return false;
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) return true;
  std::error_code error;
  const std::string target =
      std::filesystem::read_symlink(fmt::format("/proc/{}/fd/1", ::getppid()), error).string();
  return !error && (target.rfind("/dev/pts/", 0) == 0 || target.rfind("/dev/tty", 0) == 0);
}

int terminal_width() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 120;
}

}  // namespace

SweepBoard::SweepBoard(const StageGraph& graph, const std::vector<bool>& done, int groups,
                       StageTimes times, std::ostream& out, BoardOptions options)
    : graph_(graph),
      done_(done),
      groups_(groups),
      times_(std::move(times)),
      out_(out),
      options_(std::move(options)) {
  using Mode = BoardOptions::Mode;
  live_ = options_.mode == Mode::kLive || (options_.mode == Mode::kAuto && stdout_is_terminal());
  if (live_ && options_.width <= 0) options_.width = terminal_width();
  last_draw_s_ = live_ ? -1e300 : now();  // lines: the first status after an interval
}

SweepBoard::~SweepBoard() {
  const std::lock_guard<std::mutex> lock(mutex_);
  clear_block_locked();
  out_ << std::flush;
}

double SweepBoard::now() const { return options_.clock ? options_.clock() : steady_seconds(); }

void SweepBoard::started(size_t node, int group) {
  const std::lock_guard<std::mutex> lock(mutex_);
  running_[group] = {node, now(), ""};
  print_line_locked(fmt::format("start {} (group {})", line_of(graph_.nodes()[node]), group));
}

void SweepBoard::finished(size_t node, int group, double seconds) {
  const std::lock_guard<std::mutex> lock(mutex_);
  done_[node] = true;
  running_.erase(group);
  if (node < times_.classes.size()) times_.recorded_s[times_.classes[node]].push_back(seconds);
  print_line_locked(fmt::format("done  {} (group {}, {:.1f} s); {}", line_of(graph_.nodes()[node]),
                                group, seconds, summary_locked()));
}

void SweepBoard::status(int group, const std::string& text) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = running_.find(group);
    if (found == running_.end()) return;
    found->second.status = text;
  }
  tick();
}

void SweepBoard::note(const std::string& line) {
  const std::lock_guard<std::mutex> lock(mutex_);
  print_line_locked(line);
}

void SweepBoard::tick() {
  const std::lock_guard<std::mutex> lock(mutex_);
  const double t = now();
  if (live_) {
    if (t - last_draw_s_ < options_.redraw_interval_s) return;
    clear_block_locked();
    draw_block_locked();
  } else {
    if (t - last_draw_s_ < options_.status_interval_s) return;
    for (const std::string& line : block_locked()) print_line_locked(line);
  }
  last_draw_s_ = t;
}

std::string SweepBoard::summary() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return summary_locked();
}

std::optional<double> SweepBoard::expected_s(size_t node) const {
  if (node >= times_.classes.size()) return std::nullopt;
  // The class's mean; without one, that of the classes it widens to ("fine_tune detection-cnn
  // qat", then "fine_tune detection-cnn ...", then "fine_tune ...").
  for (std::string prefix = times_.classes[node]; !prefix.empty();) {
    double sum = 0;
    size_t count = 0;
    for (const auto& [name, seconds] : times_.recorded_s) {
      if (name != prefix && name.rfind(prefix + ' ', 0) != 0) continue;
      sum += std::accumulate(seconds.begin(), seconds.end(), 0.0);
      count += seconds.size();
    }
    if (count > 0) return sum / static_cast<double>(count);
    const size_t space = prefix.rfind(' ');
    prefix = space == std::string::npos ? "" : prefix.substr(0, space);
  }
  return std::nullopt;
}

std::string SweepBoard::summary_locked() const {
  size_t done = 0;
  double left_s = 0;
  size_t untimed = 0;
  std::vector<bool> running(done_.size(), false);
  const double t = now();
  for (const auto& [group, stage] : running_) {
    running[stage.node] = true;
    if (const std::optional<double> expected = expected_s(stage.node)) {
      left_s += std::max(*expected - (t - stage.started_s), 0.0);
    } else {
      ++untimed;
    }
  }
  for (size_t i = 0; i < done_.size(); ++i) {
    if (done_[i]) {
      ++done;
    } else if (!running[i]) {
      if (const std::optional<double> expected = expected_s(i)) {
        left_s += *expected;
      } else {
        ++untimed;
      }
    }
  }
  // The groups share the work: the time left is the work left over the groups (the graph's
  // chains can make it longer; it is an estimate).
  const double eta = left_s / static_cast<double>(groups_);
  std::string text =
      fmt::format("{}/{} stages done, {} running", done, done_.size(), running_.size());
  if (done == done_.size()) return text;
  if (untimed == 0) return text + ", ETA " + duration_text(eta);
  if (left_s == 0) return text + fmt::format(", ETA ? ({} not yet timed)", untimed);
  return text + fmt::format(", ETA >= {} ({} not yet timed)", duration_text(eta), untimed);
}

std::vector<std::string> SweepBoard::block_locked() const {
  std::vector<std::string> lines = {"sweep: " + summary_locked()};
  const double t = now();
  for (int group = 0; group < groups_; ++group) {
    const auto found = running_.find(group);
    if (found == running_.end()) {
      lines.push_back(fmt::format("  group {}: idle", group));
      continue;
    }
    const StageNode& node = graph_.nodes()[found->second.node];
    lines.push_back(fmt::format("  group {}: {} ({})  {}", group,
                                node.name.empty() ? node.key : node.name,
                                duration_text(t - found->second.started_s), found->second.status));
  }
  return lines;
}

void SweepBoard::print_line_locked(const std::string& line) {
  if (!live_) {
    out_ << '[' << (options_.timestamp ? options_.timestamp() : utc_now()) << "] " << line << '\n'
         << std::flush;
    return;
  }
  // Above the block: clear it, print, draw it again.
  clear_block_locked();
  out_ << line << '\n';
  draw_block_locked();
}

void SweepBoard::clear_block_locked() {
  if (!live_ || block_lines_ == 0) return;
  // Up to the block's first line, then erase to the end of the screen (ANSI CPL and ED).
  out_ << fmt::format("\x1b[{}F\x1b[J", block_lines_);
  block_lines_ = 0;
}

void SweepBoard::draw_block_locked() {
  const size_t width = static_cast<size_t>(std::max(options_.width - 1, 20));
  for (std::string line : block_locked()) {
    // A wrapped line would break the cursor arithmetic above.
    if (line.size() > width) line = line.substr(0, width - 3) + "...";
    out_ << line << '\n';
    ++block_lines_;
  }
  out_ << std::flush;
  last_draw_s_ = now();
}

}  // namespace ptqat::sweeps
