// The scheduler on real MPI ranks (run under `mpirun -np 2`): every stage that is not recorded
// runs once, after its parent, on one group of ranks; recorded stages are skipped on every rank.

#include "sweeps/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "distributed/mpi_communicator.h"

namespace ptqat::sweeps {
namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC: one clock for every rank of a host

/// float -> {calibrate a, calibrate b}; calibrate a -> {fine-tune a1, fine-tune a2}.
StageGraph two_level_graph() {
  StageGraph graph;
  graph.add({"float", "", "float_train", "", 0, ""});
  graph.add({"cal_a", "float", "calibrate", "bits=4", 0, ""});
  graph.add({"cal_b", "float", "calibrate", "bits=8", 1, ""});
  graph.add({"ft_a1", "cal_a", "fine_tune", "ratio=0.25", 0, ""});
  graph.add({"ft_a2", "cal_a", "fine_tune", "ratio=0.5", 2, ""});
  return graph;
}

/// What one rank saw: the stages it ran, in order, with their start and end times.
struct RankLog {
  std::vector<std::string> keys;
  std::map<std::string, std::pair<int64_t, int64_t>> spans;  ///< key -> (start, end) in ns
  int group_size = 0;
};

StageRunner logging_runner(RankLog& log) {
  return [&log](const StageNode& node, core::Collective& group) {
    const auto now = [] { return Clock::now().time_since_epoch().count(); };
    const int64_t start = now();
    group.barrier();  // the group runs the stage together, as data-parallel training does
    log.keys.push_back(node.key);
    log.group_size = group.world_size();
    log.spans[node.key] = {start, now()};
  };
}

/// Every rank's log, gathered on every rank: "key start end" lines per rank.
std::vector<RankLog> gather(const RankLog& mine) {
  std::ostringstream text;
  for (const std::string& key : mine.keys) {
    text << key << " " << mine.spans.at(key).first << " " << mine.spans.at(key).second << "\n";
  }
  distributed::MpiCommunicator world = distributed::MpiCommunicator::world();
  std::vector<RankLog> logs;
  for (const std::string& part : world.all_gather_bytes(text.str())) {
    RankLog log;
    std::istringstream lines(part);
    std::string key;
    int64_t start = 0, end = 0;
    while (lines >> key >> start >> end) {
      log.keys.push_back(key);
      log.spans[key] = {start, end};
    }
    logs.push_back(std::move(log));
  }
  return logs;
}

TEST(Scheduler, OneGroupOfTwoRanksRunsEveryStageOnceInOrderAndSkipsTheRecorded) {
  const StageGraph graph = two_level_graph();
  RankLog log;
  std::ostringstream progress;
  const ScheduleSummary summary = run_graph(
      graph, [](const std::string& key) { return key == "cal_b"; }, /*ranks_per_run=*/2,
      logging_runner(log), progress);
  EXPECT_EQ(summary.run, 4u);
  EXPECT_EQ(summary.skipped, 1u);
  EXPECT_EQ(log.group_size, 2);
  // Both ranks walk the graph in order, the recorded calibration left out.
  EXPECT_EQ(log.keys, (std::vector<std::string>{"float", "cal_a", "ft_a1", "ft_a2"}));
}

TEST(Scheduler, TwoGroupsOfOneRankShareTheStagesAndEachWaitsForItsParent) {
  const StageGraph graph = two_level_graph();
  RankLog log;
  std::ostringstream progress;
  const ScheduleSummary summary = run_graph(
      graph, [](const std::string&) { return false; }, /*ranks_per_run=*/1, logging_runner(log),
      progress);
  EXPECT_EQ(summary.run, 5u);
  EXPECT_EQ(summary.skipped, 0u);
  if (!log.keys.empty()) {
    EXPECT_EQ(log.group_size, 1);
  }

  const std::vector<RankLog> logs = gather(log);
  ASSERT_EQ(logs.size(), 2u);
  std::map<std::string, std::pair<int64_t, int64_t>> spans;
  for (const RankLog& rank : logs) {
    for (const std::string& key : rank.keys) {
      EXPECT_EQ(spans.count(key), 0u) << key << " ran twice";
      spans[key] = rank.spans.at(key);
    }
  }
  ASSERT_EQ(spans.size(), graph.nodes().size());
  for (const StageNode& node : graph.nodes()) {
    if (node.parent.empty()) continue;
    EXPECT_GE(spans.at(node.key).first, spans.at(node.parent).second)
        << node.key << " started before its parent " << node.parent << " ended";
  }
}

TEST(Scheduler, RanksPerRunThatDoesNotDivideTheJobIsAnErrorOnEveryRank) {
  const StageGraph graph = two_level_graph();
  RankLog log;
  std::ostringstream progress;
  try {
    run_graph(
        graph, [](const std::string&) { return false; }, /*ranks_per_run=*/3, logging_runner(log),
        progress);
    ADD_FAILURE() << "expected a DistError";
  } catch (const DistError& error) {
    EXPECT_NE(std::string(error.what()).find("ranks_per_run = 3 does not divide the 2 ranks"),
              std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(log.keys.empty());
}

}  // namespace
}  // namespace ptqat::sweeps
