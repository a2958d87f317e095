#include "distributed/mpi_world.h"

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/error.h"
#include "distributed/mpi_check.h"

namespace ptqat::distributed {
namespace {

// MPI can be initialized once per process, so a second MpiWorld is always a mistake.
std::atomic<bool> world_exists{false};

const char* thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    case MPI_THREAD_MULTIPLE:
      return "MPI_THREAD_MULTIPLE";
    default:
      return "an unknown thread level";
  }
}

// The rank as the launcher announced it, for messages written while MPI is not running.
std::string launcher_rank_or_unknown() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    if (const char* value = std::getenv(name)) return value;
  }
  return "?";
}

}  // namespace

MpiWorld::MpiWorld(int* argc, char*** argv) : uncaught_at_start_(std::uncaught_exceptions()) {
  PTQAT_CHECK(!world_exists.exchange(true), DistError,
              "MpiWorld: expected one per process, got a second one (MPI starts once per "
              "process; pass the first one around instead)");
  // A constructor that throws runs no destructor: give the slot back on every early exit.
  struct SlotGuard {
    bool keep = false;
    ~SlotGuard() {
      if (!keep) world_exists.store(false);
    }
  } slot;

  int initialized = 0;
  int finalized = 0;
  PTQAT_MPI_CHECK(MPI_Initialized(&initialized));
  PTQAT_MPI_CHECK(MPI_Finalized(&finalized));
  PTQAT_CHECK(!finalized, DistError,
              "MpiWorld: MPI was already finalized in this process; it cannot be started again");
  PTQAT_CHECK(!initialized, DistError,
              "MpiWorld: expected to start MPI itself, got MPI already initialized by other code");

  int provided = MPI_THREAD_SINGLE;
  // MULTIPLE where MPI has it: a sweep's coordinator thread (sweeps/scheduler.h) needs it; the
  // rest of ptqat calls MPI from the main thread only and makes do with FUNNELED.
  PTQAT_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
  // MPI guarantees the order SINGLE < FUNNELED < SERIALIZED < MULTIPLE, so < compares levels.
  if (provided < MPI_THREAD_FUNNELED) {
    // Every rank links the same MPI and gets the same level, so all of them finalize and fail
    // here together; nobody is left waiting.
    PTQAT_MPI_CHECK(MPI_Finalize());
    PTQAT_FAIL(DistError,
               "MPI_Init_thread: expected thread support MPI_THREAD_FUNNELED or higher (LibTorch "
               "runs its own threads next to the MPI-calling main thread), got {}",
               thread_level_name(provided));
  }
  // See Note [MPI errors become exceptions] in mpi_world.h.
  PTQAT_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

  PTQAT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  PTQAT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_size_));

  // Ranks sharing memory are the ranks of one node. The world rank as key keeps the local
  // order the same as the world order, so local rank 0 is the node's lowest world rank.
  MPI_Comm node = MPI_COMM_NULL;
  PTQAT_MPI_CHECK(
      MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  PTQAT_MPI_CHECK(MPI_Comm_rank(node, &local_rank_));
  PTQAT_MPI_CHECK(MPI_Comm_size(node, &local_size_));
  PTQAT_MPI_CHECK(MPI_Comm_free(&node));

  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  PTQAT_MPI_CHECK(MPI_Get_processor_name(name, &length));
  hostname_.assign(name, static_cast<size_t>(length));

  slot.keep = true;
}

MpiWorld::~MpiWorld() {
  if (std::uncaught_exceptions() > uncaught_at_start_) {
    // The exception's text is out of reach here; the top level should have caught it and
    // called abort_world with it. This is the safety net.
    abort_world(
        "an exception unwound past MpiWorld (catch it inside the world's scope and pass "
        "its message to abort_world); aborting so that other ranks do not wait for this one",
        1);
  }
  const int code = MPI_Finalize();
  if (code != MPI_SUCCESS) {
    // A destructor must not throw; say it on stderr instead of dropping the code.
    const std::string line = fmt::format("warning: [rank {}] MPI_Finalize failed: {}\n", rank_,
                                         detail::mpi_error_text(code));
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  world_exists.store(false);
}

bool MpiWorld::launched_by_mpirun() {
  // OMPI_*: Open MPI's mpirun; PMI_SIZE: PMI-1/2 launchers (MPICH's hydra, srun --mpi=pmi2);
  // PMIX_RANK: PMIx launchers (srun --mpi=pmix, Open MPI 5's prterun).
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

void abort_world(const std::string& message, int exit_code) {
  // An abort must never read as success to the launcher or to a script checking $?.
  if (exit_code == 0) exit_code = 1;
  const int rank = detail::world_rank_or_unknown();
  std::string text = message;
  std::replace(text.begin(), text.end(), '\n', ' ');
  const std::string line = fmt::format(
      "error: [rank {}] {}\n", rank >= 0 ? std::to_string(rank) : launcher_rank_or_unknown(), text);
  // One write per line, flushed before MPI_Abort kills the process, so the reason reaches the
  // launcher's output whole and does not interleave with other ranks' lines.
  std::fflush(stdout);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  if (rank >= 0) {
    // MPI_Abort returns only if it failed; then the exit below still ends this rank, and the
    // launcher ends the job when one of its processes exits non-zero.
    const int code = MPI_Abort(MPI_COMM_WORLD, exit_code);
    const std::string failed =
        fmt::format("error: [rank {}] MPI_Abort failed: {}\n", rank, detail::mpi_error_text(code));
    std::fwrite(failed.data(), 1, failed.size(), stderr);
    std::fflush(stderr);
  }
  // _Exit, not exit: static destructors could call into MPI again.
  std::_Exit(exit_code);
}

}  // namespace ptqat::distributed
