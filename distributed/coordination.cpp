#include "distributed/coordination.h"

#include <mpi.h>

#include <chrono>
#include <thread>

#include "distributed/mpi_check.h"

namespace ptqat::distributed {
namespace {

constexpr int kToCoordinatorTag = 1;
constexpr int kToLeaderTag = 2;
constexpr int kProgressTag = 3;

MPI_Status wait_without_spinning(MPI_Request& request,
                                 const std::function<void()>& while_waiting = {}) {
  MPI_Status status;
  int arrived = 0;
  while (true) {
    PTQAT_MPI_CHECK(MPI_Test(&request, &arrived, &status));
    if (arrived != 0) return status;
    if (while_waiting) while_waiting();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

CoordinationChannel::CoordinationChannel(const MpiCommunicator& world)
    : comm_(world.split(0, world.rank())) {}

std::pair<int, int> CoordinationChannel::receive_from_any_leader(
    const std::function<void()>& while_waiting) {
  int value = 0;
  MPI_Request request = MPI_REQUEST_NULL;
  PTQAT_MPI_CHECK(
      MPI_Irecv(&value, 1, MPI_INT, MPI_ANY_SOURCE, kToCoordinatorTag, comm_.handle(), &request));
  const MPI_Status status = wait_without_spinning(request, while_waiting);
  return {status.MPI_SOURCE, value};
}

void CoordinationChannel::send_progress(const std::string& text) {
  PTQAT_MPI_CHECK(MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, kProgressTag,
                           comm_.handle()));
}

std::optional<std::pair<int, std::string>> CoordinationChannel::poll_progress() {
  int arrived = 0;
  MPI_Status status;
  PTQAT_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, kProgressTag, comm_.handle(), &arrived, &status));
  if (arrived == 0) return std::nullopt;
  int size = 0;
  PTQAT_MPI_CHECK(MPI_Get_count(&status, MPI_CHAR, &size));
  std::string text(static_cast<size_t>(size), '\0');
  PTQAT_MPI_CHECK(MPI_Recv(text.data(), size, MPI_CHAR, status.MPI_SOURCE, kProgressTag,
                           comm_.handle(), MPI_STATUS_IGNORE));
  return std::make_pair(status.MPI_SOURCE, std::move(text));
}

void CoordinationChannel::send_to_leader(int leader, int value) {
  PTQAT_MPI_CHECK(MPI_Send(&value, 1, MPI_INT, leader, kToLeaderTag, comm_.handle()));
}

int CoordinationChannel::ask_coordinator(int value) {
  PTQAT_MPI_CHECK(MPI_Send(&value, 1, MPI_INT, 0, kToCoordinatorTag, comm_.handle()));
  int answer = 0;
  MPI_Request request = MPI_REQUEST_NULL;
  PTQAT_MPI_CHECK(MPI_Irecv(&answer, 1, MPI_INT, 0, kToLeaderTag, comm_.handle(), &request));
  wait_without_spinning(request);
  return answer;
}

int broadcast_from_leader(int value, const MpiCommunicator& group) {
  MPI_Request request = MPI_REQUEST_NULL;
  PTQAT_MPI_CHECK(MPI_Ibcast(&value, 1, MPI_INT, 0, group.handle(), &request));
  wait_without_spinning(request);
  return value;
}

bool several_threads_may_call_mpi() {
  int provided = MPI_THREAD_SINGLE;
  PTQAT_MPI_CHECK(MPI_Query_thread(&provided));
  return provided >= MPI_THREAD_MULTIPLE;
}

}  // namespace ptqat::distributed
