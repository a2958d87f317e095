#pragma once
// Running a sweep's stage graph over the ranks of the job (docs/sweeps.md "Scheduling"). The
// world is split into groups of ranks_per_run ranks; a stage runs on one group (data-parallel
// inside it) once its parent is done; world rank 0 hands ready stages to free groups.
//
// Note [sweep coordinator]
// With more than one group, a coordinator thread on world rank 0 answers the groups' leaders:
// each leader reports the stage it finished and gets the next ready stage (or "none left"), then
// broadcasts it to its group. Rank 0 also leads group 0, so the coordinator must talk MPI while
// rank 0's main thread trains: MPI's THREAD_MULTIPLE level (Open MPI provides it). Its messages
// (distributed/coordination.h) poll with short sleeps rather than blocking, which Open MPI
// busy-waits, so the coordinator does not take a core from the training next to it. With a
// single group there is nothing to coordinate: every rank walks the graph in order.
//
// The graph is decided before the run; which stages are already recorded is decided by world
// rank 0 and broadcast, so every rank agrees even when the file system is slow to show a record.

#include <functional>
#include <ostream>
#include <string>

#include "core/collective.h"
#include "sweeps/stage_graph.h"
#include "sweeps/sweep_board.h"

namespace ptqat::sweeps {

/// Runs one stage; every rank of `group` calls it with the same node. A stage that throws ends
/// the job (the runner's main aborts it).
using StageRunner = std::function<void(const StageNode& node, core::Collective& group)>;

struct ScheduleSummary {
  size_t run = 0;      ///< stages this job ran
  size_t skipped = 0;  ///< stages already recorded
};

/// Runs every stage of `graph` that `recorded` (asked on world rank 0 only) does not know, each
/// after its parent, on groups of `ranks_per_run` ranks. Without MPI this process runs them in
/// order. World rank 0 shows the sweep on `log` (sweeps/sweep_board.h: start and done lines,
/// each group's progress, an ETA from `times`).
/// Returns on every rank once the whole graph is done. On preemption (core/preemption.h) no
/// further stage starts, running stages stop at an agreed step with a resume point, and every
/// rank throws core::Preempted. DistError when ranks_per_run does not divide the world size, or
/// several groups lack MPI's THREAD_MULTIPLE level.
ScheduleSummary run_graph(const StageGraph& graph,
                          const std::function<bool(const std::string&)>& recorded,
                          int ranks_per_run, const StageRunner& run, std::ostream& log,
                          const StageTimes& times = {});

}  // namespace ptqat::sweeps
