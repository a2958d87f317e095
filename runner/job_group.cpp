#include "runner/job_group.h"

#include <mpi.h>

#include <memory>

#include "distributed/mpi_communicator.h"

namespace ptqat::runner {

core::Collective& job_group() {
  static const std::unique_ptr<core::Collective> group = []() -> std::unique_ptr<core::Collective> {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized == 0) return std::make_unique<core::SingleProcessCollective>();
    return std::make_unique<distributed::MpiCommunicator>(distributed::MpiCommunicator::world());
  }();
  return *group;
}

}  // namespace ptqat::runner
