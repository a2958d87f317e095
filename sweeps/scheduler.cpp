#include "sweeps/scheduler.h"

#include <fmt/format.h>

#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <thread>

#include "core/error.h"
#include "core/preemption.h"
#include "core/progress_sink.h"
#include "core/resources.h"
#include "distributed/coordination.h"
#include "distributed/job_group.h"
#include "distributed/mpi_communicator.h"
#include "distributed/mpi_world.h"
#include "sweeps/sweep_board.h"

namespace ptqat::sweeps {
namespace {

using distributed::CoordinationChannel;
using distributed::MpiCommunicator;

constexpr int kNoneLeft = -1;
constexpr int kPreemptedReport = -2;  // a leader's report: its stage stopped on preemption
// Leader -> coordinator: the index it finished, kNoneLeft (nothing yet) or kPreemptedReport.
// Coordinator -> leader: the index to run, or kNoneLeft.

/// Which stages are recorded, as world rank 0 sees it, on every rank.
std::vector<bool> recorded_on_rank0(const StageGraph& graph,
                                    const std::function<bool(const std::string&)>& recorded,
                                    core::Collective& world) {
  torch::Tensor flags = torch::zeros({static_cast<int64_t>(graph.nodes().size())}, torch::kUInt8);
  if (world.rank() == 0) {
    for (size_t i = 0; i < graph.nodes().size(); ++i) {
      flags[static_cast<int64_t>(i)] = recorded(graph.nodes()[i].key) ? 1 : 0;
    }
  }
  world.broadcast(flags, 0);
  std::vector<bool> done(graph.nodes().size());
  for (size_t i = 0; i < done.size(); ++i)
    done[i] = flags[static_cast<int64_t>(i)].item<uint8_t>() != 0;
  return done;
}

/// Whether any rank stopped a stage for preemption (collective over `world`; doubles as the
/// barrier that ends the sweep).
bool preemption_in_any(bool preempted, MpiCommunicator& world) {
  const torch::Tensor flag = torch::tensor({preempted ? 1 : 0}, torch::kInt32);
  world.all_reduce_max(flag);
  return flag.item<int>() != 0;
}

/// The coordinator of Note [sweep coordinator]: hands ready stages to idle leaders until none
/// are left, then releases every leader.
class Coordinator {
 public:
  Coordinator(const StageGraph& graph, std::vector<bool> done, int ranks_per_group, int groups,
              CoordinationChannel& channel, SweepBoard& board)
      : graph_(graph),
        done_(std::move(done)),
        running_(done_.size(), false),
        ranks_per_group_(ranks_per_group),
        groups_(groups),
        channel_(channel),
        board_(board) {}

  void serve() {
    int released = 0;
    std::deque<int> idle;  // world ranks of the leaders waiting for a stage
    while (released < groups_) {
      const auto [leader, finished] = channel_.receive_from_any_leader([&] {
        while (const auto progress = channel_.poll_progress()) {
          board_.status(progress->first / ranks_per_group_, progress->second);
        }
        board_.tick();
      });
      // Stop handing out stages once preemption is asked for: here, or in a group that stopped.
      stopping_ = stopping_ || finished == kPreemptedReport || core::preemption_requested();
      if (finished == kPreemptedReport) {
        board_.note(
            fmt::format("group {} stopped its stage for preemption", leader / ranks_per_group_));
      } else if (finished != kNoneLeft) {
        done_[static_cast<size_t>(finished)] = true;
        running_[static_cast<size_t>(finished)] = false;
        board_.finished(static_cast<size_t>(finished), leader / ranks_per_group_,
                        started_.at(finished).seconds());
      }
      idle.push_back(leader);
      while (!idle.empty()) {
        const long ready = stopping_ ? -1 : next_ready();
        if (ready >= 0) {
          assign(idle.front(), static_cast<int>(ready));
          idle.pop_front();
        } else if (stopping_ || none_running()) {
          // Stopping, or nothing ready and nothing that could make something ready: the graph
          // is done. Either way a waiting leader is released.
          for (const int waiting : idle) assign(waiting, kNoneLeft);
          released += static_cast<int>(idle.size());
          idle.clear();
        } else {
          break;
        }
      }
    }
  }

 private:
  long next_ready() const {
    const std::vector<StageNode>& nodes = graph_.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (done_[i] || running_[i]) continue;
      const long parent = graph_.index_of(nodes[i].parent);
      if (parent < 0 || done_[static_cast<size_t>(parent)]) return static_cast<long>(i);
    }
    return -1;
  }

  bool none_running() const {
    for (const bool running : running_) {
      if (running) return false;
    }
    return true;
  }

  void assign(int leader, int index) {
    if (index != kNoneLeft) {
      running_[static_cast<size_t>(index)] = true;
      started_.insert_or_assign(index, core::Stopwatch());
      board_.started(static_cast<size_t>(index), leader / ranks_per_group_);
    }
    channel_.send_to_leader(leader, index);
  }

  const StageGraph& graph_;
  std::vector<bool> done_;
  std::vector<bool> running_;
  std::map<int, core::Stopwatch> started_;
  bool stopping_ = false;
  int ranks_per_group_;
  int groups_;
  CoordinationChannel& channel_;
  SweepBoard& board_;
};

/// Joins the coordinator thread, or, when an exception is unwinding (the job is about to be
/// aborted), detaches it: joining would wait for leaders that will never report.
class CoordinatorThread {
 public:
  explicit CoordinatorThread(std::thread thread)
      : thread_(std::move(thread)), uncaught_(std::uncaught_exceptions()) {}
  ~CoordinatorThread() {
    if (!thread_.joinable()) return;
    if (std::uncaught_exceptions() > uncaught_) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
  CoordinatorThread(const CoordinatorThread&) = delete;
  CoordinatorThread& operator=(const CoordinatorThread&) = delete;

 private:
  std::thread thread_;
  int uncaught_;
};

/// Runs every stage not `done` in order on `group`; `board` (on the group's rank 0 only, else
/// null) shows them.
ScheduleSummary run_in_order(const StageGraph& graph, const std::vector<bool>& done,
                             core::Collective& group, const StageRunner& run, SweepBoard* board) {
  ScheduleSummary summary;
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const StageNode& node = graph.nodes()[i];
    if (done[i]) {
      ++summary.skipped;
      continue;
    }
    if (core::preemption_agreed(group)) {
      throw core::Preempted(fmt::format("stopped before stage {}", node.key));
    }
    const core::Stopwatch stopwatch;
    if (board != nullptr) board->started(i, 0);
    run(node, group);
    if (board != nullptr) board->finished(i, 0, stopwatch.seconds());
    ++summary.run;
  }
  return summary;
}

}  // namespace

ScheduleSummary run_graph(const StageGraph& graph,
                          const std::function<bool(const std::string&)>& recorded,
                          int ranks_per_run, const StageRunner& run, std::ostream& log,
                          const StageTimes& times) {
  if (!distributed::mpi_running()) {
    core::SingleProcessCollective alone;
    std::vector<bool> done(graph.nodes().size());
    for (size_t i = 0; i < done.size(); ++i) done[i] = recorded(graph.nodes()[i].key);
    SweepBoard board(graph, done, 1, times, log);
    const core::ScopedProgressSink to_board(
        [&](const std::string& text) { board.status(0, text); });
    return run_in_order(graph, done, alone, run, &board);
  }

  MpiCommunicator world = MpiCommunicator::world();
  PTQAT_CHECK(ranks_per_run >= 1 && world.world_size() % ranks_per_run == 0, DistError,
              "sweep: ranks_per_run = {} does not divide the {} ranks of this job", ranks_per_run,
              world.world_size());
  const std::vector<bool> done = recorded_on_rank0(graph, recorded, world);
  const int groups = world.world_size() / ranks_per_run;
  MpiCommunicator group = world.split(world.rank() / ranks_per_run, world.rank());
  ScheduleSummary summary;
  for (const bool is_done : done) summary.skipped += is_done ? 1 : 0;
  summary.run = done.size() - summary.skipped;
  // World rank 0 shows the sweep; its own stages report to the board directly.
  std::optional<SweepBoard> board;
  std::optional<core::ScopedProgressSink> to_board;
  if (world.rank() == 0) {
    board.emplace(graph, done, groups, times, log);
    to_board.emplace([&](const std::string& text) { board->status(0, text); });
  }

  if (groups == 1) {
    run_in_order(graph, done, group, run, board ? &*board : nullptr);  // Preempted on every rank
    world.barrier();
    return summary;
  }

  PTQAT_CHECK(distributed::several_threads_may_call_mpi(), DistError,
              "sweep: {} groups of ranks need an MPI with THREAD_MULTIPLE support for the "
              "coordinator on rank 0 "
              "(docs/sweeps.md); this MPI provides less. Set ranks_per_run to the number of ranks",
              groups);
  CoordinationChannel channel(world);
  // The other groups' leaders forward their stages' progress to the board.
  std::optional<core::ScopedProgressSink> to_coordinator;
  if (world.rank() != 0 && group.rank() == 0) {
    to_coordinator.emplace([&](const std::string& text) { channel.send_progress(text); });
  }
  std::optional<Coordinator> coordinator;
  std::optional<CoordinatorThread> coordinator_thread;
  if (world.rank() == 0) {
    coordinator.emplace(graph, done, ranks_per_run, groups, channel, *board);
    coordinator_thread.emplace(std::thread([&] {
      try {
        coordinator->serve();
      } catch (const std::exception& error) {
        distributed::abort_world(fmt::format("sweep coordinator: {}", error.what()), 70);
      }
    }));
  }

  int finished = kNoneLeft;
  bool preempted = false;
  while (true) {
    const int next = distributed::broadcast_from_leader(
        group.rank() == 0 ? channel.ask_coordinator(finished) : kNoneLeft, group);
    if (next == kNoneLeft) break;
    try {
      run(graph.nodes()[static_cast<size_t>(next)], group);
      finished = next;
    } catch (const core::Preempted&) {
      // The whole group stopped at the same step and saved its resume point.
      preempted = true;
      finished = kPreemptedReport;
    }
  }
  coordinator_thread.reset();  // joins: every leader has been released
  // A signal that arrived while no stage trained stopped the hand-out all the same.
  if (preemption_in_any(preempted || core::preemption_requested(), world)) {
    throw core::Preempted("the sweep stopped for preemption; running stages saved resume points");
  }
  return summary;
}

}  // namespace ptqat::sweeps
