#include "distributed/job_group.h"

#include <mpi.h>

#include <memory>

#include "distributed/mpi_check.h"
#include "distributed/mpi_communicator.h"

namespace ptqat::distributed {
namespace {

int local_rank = 0;
int local_size = 1;

}  // namespace

bool mpi_running() {
  int initialized = 0;
  PTQAT_MPI_CHECK(MPI_Initialized(&initialized));
  return initialized != 0;
}

core::Collective& job_group() {
  static const std::unique_ptr<core::Collective> group = []() -> std::unique_ptr<core::Collective> {
    if (!mpi_running()) return std::make_unique<core::SingleProcessCollective>();
    // The ranks sharing this node, once, while every rank is here (the split is collective).
    MPI_Comm node = MPI_COMM_NULL;
    PTQAT_MPI_CHECK(
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    PTQAT_MPI_CHECK(MPI_Comm_rank(node, &local_rank));
    PTQAT_MPI_CHECK(MPI_Comm_size(node, &local_size));
    PTQAT_MPI_CHECK(MPI_Comm_free(&node));
    return std::make_unique<MpiCommunicator>(MpiCommunicator::world());
  }();
  return *group;
}

int job_local_rank() { return local_rank; }

int job_local_size() { return local_size; }

int job_rank() {
  int rank = 0;
  if (mpi_running()) PTQAT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  return rank;
}

int job_size() {
  int size = 1;
  if (mpi_running()) PTQAT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
  return size;
}

}  // namespace ptqat::distributed
