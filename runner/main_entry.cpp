#include "runner/main_entry.h"

#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "core/resources.h"
#include "distributed/mpi_world.h"
#include "runner/cli.h"
#include "runner/exit_codes.h"

namespace ptqat::runner {

int run_main(int argc, char** argv) {
  core::keep_freed_memory_in_heap();  // Note [allocator] in core/resources.h
  // A line of the report is written when it ends, also into a pipe or a Slurm log: interleaved
  // with stderr's log lines in the order they happened (std::cout writes through stdio).
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // MPI only under a launcher: a plain `ptqat` call stays a plain process. Outside the try, so
  // a failure can still abort the job (distributed/mpi_world.h).
  std::optional<distributed::MpiWorld> world;
  if (distributed::MpiWorld::launched_by_mpirun()) world.emplace(&argc, &argv);
  // Ranks other than 0 report nothing on stdout: one job, one report.
  std::ostringstream discarded;
  std::ostream& out = world && world->rank() != 0 ? discarded : std::cout;
  int code = 0;
  try {
    code = run_cli(argc, argv, out, std::cerr);
  } catch (const std::exception& error) {
    // Not a user error: a bug or a library failure. Still one line, and a distinct code.
    if (world && world->world_size() > 1)
      distributed::abort_world(error.what(), exit_code::kInternal);
    std::cerr << "error: " << error.what() << "\n";
    return exit_code::kInternal;
  }
  // A failed rank ends the whole job rather than leaving the others in their next collective;
  // run_cli has printed the error. A preempted job stopped on every rank alike: it finalizes.
  if (code != 0 && code != exit_code::kPreempted && world && world->world_size() > 1) {
    distributed::abort_world("this rank failed (see its error above)", code);
  }
  return code;
}

}  // namespace ptqat::runner
