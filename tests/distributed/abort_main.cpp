// A job in which one rank fails: rank 1 calls abort_world("boom", 3) while rank 0 waits in a
// barrier that rank 1 will never enter. abort_world is right when the launcher ends the whole
// job with a non-zero code and the message; if it only ended rank 1, rank 0 would wait until
// the test's timeout. Run by expect_abort.cmake (tests/distributed/CMakeLists.txt).

#include <mpi.h>

#include <cstdio>
#include <exception>

#include "distributed/mpi_check.h"
#include "distributed/mpi_world.h"

int main(int argc, char** argv) {
  using ptqat::distributed::abort_world;
  ptqat::distributed::MpiWorld world(&argc, &argv);
  try {
    if (world.rank() == 1) abort_world("boom", 3);
    PTQAT_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    std::fprintf(stderr, "rank %d left the barrier: the failing rank did not abort the job\n",
                 world.rank());
    return 0;
  } catch (const std::exception& error) {
    abort_world(error.what(), 1);
  }
}
