#pragma once
// The messages of a sweep's coordinator (sweeps/scheduler.h, Note [sweep coordinator]): small
// integers (and progress text) between the coordinator thread on world rank 0 and the leaders of
// the groups of ranks, on a communicator of their own, so that no coordinator message can match
// another of ptqat's. Every wait polls with short sleeps instead of blocking in MPI: Open MPI's
// blocking calls busy-wait, and a rank waiting for work must not take a core from the ranks that
// train.

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "distributed/mpi_communicator.h"

namespace ptqat::distributed {

class CoordinationChannel {
 public:
  /// Collective over `world`.
  explicit CoordinationChannel(const MpiCommunicator& world);

  /// Coordinator (rank 0): waits for the next message of any leader, calling `while_waiting`
  /// between polls; returns {the leader's rank in `world`, its value}.
  std::pair<int, int> receive_from_any_leader(const std::function<void()>& while_waiting = {});
  /// Coordinator: sends `value` to `leader`.
  void send_to_leader(int leader, int value);
  /// Leader: sends `value` to the coordinator and waits for its answer.
  int ask_coordinator(int value);
  /// Leader: a line of progress for the coordinator's display; does not wait for it to be read
  /// (short texts go eagerly).
  void send_progress(const std::string& text);
  /// Coordinator: a progress text that has arrived, {the leader's rank, the text}, if any.
  std::optional<std::pair<int, std::string>> poll_progress();

 private:
  MpiCommunicator comm_;
};

/// `value` of `group`'s rank 0, on every rank of `group`, waited for without spinning.
int broadcast_from_leader(int value, const MpiCommunicator& group);

/// Whether this MPI session lets several threads talk MPI at once (the coordinator thread beside
/// rank 0's training needs it; Open MPI provides it).
bool several_threads_may_call_mpi();

}  // namespace ptqat::distributed
