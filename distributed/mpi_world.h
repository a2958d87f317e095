#pragma once
// MpiWorld: the process's one MPI session (MPI_Init_thread .. MPI_Finalize) and where this rank
// sits in the job; abort_world: how a failing rank ends the whole job.
//
// Note [MPI errors become exceptions]
// MPI's default error handler on MPI_COMM_WORLD is MPI_ERRORS_ARE_FATAL: a failed call kills
// the job with MPI's message and no word of which ptqat call failed. MpiWorld switches
// MPI_COMM_WORLD to MPI_ERRORS_RETURN, so every call's code reaches PTQAT_MPI_CHECK, which throws
// a DistError naming the call and the rank. The top level catches it and calls abort_world, so
// the job still ends as a whole (docs/architecture.md: a rank that fails aborts the job instead of
// leaving the others waiting in their next collective).

#include <string>

namespace ptqat::distributed {

/// The MPI session of this process. Construct exactly one, first thing in main, on the thread
/// that will make the MPI calls: it requests MPI_THREAD_MULTIPLE and needs at least
/// MPI_THREAD_FUNNELED (LibTorch and the data loader run their own threads, but only the main
/// thread talks to MPI, except a sweep's coordinator, which checks for MULTIPLE itself). The destructor calls
/// MPI_Finalize, after which MPI cannot be started again in this process.
///
/// Works the same whether the process was started by mpirun/srun or alone (a world of one).
/// Not copyable or movable: it stands for the MPI session itself.
///
/// Keep the world outside the try block that reports errors, so the handler still has MPI to
/// abort the job with and the message of what failed:
///
///   MpiWorld world(&argc, &argv);
///   try { run(world); } catch (const std::exception& e) { abort_world(e.what(), 1); }
class MpiWorld {
 public:
  /// Starts MPI and reads this rank's place in the job. argc/argv may be null (MPI-2); MPI may
  /// strip its own arguments from them. Throws DistError when a world already exists, MPI was
  /// started or finished elsewhere, or MPI does not provide MPI_THREAD_FUNNELED.
  explicit MpiWorld(int* argc = nullptr, char*** argv = nullptr);
  /// Finalizes MPI. If an exception is unwinding through this destructor, the job is aborted
  /// instead (abort_world): MPI_Finalize would wait for ranks that may never arrive.
  ~MpiWorld();

  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;
  MpiWorld(MpiWorld&&) = delete;
  MpiWorld& operator=(MpiWorld&&) = delete;

  /// Rank in MPI_COMM_WORLD, in [0, world_size()).
  int rank() const { return rank_; }
  /// Number of ranks in MPI_COMM_WORLD.
  int world_size() const { return world_size_; }
  /// Rank among the ranks that share this node's memory (MPI_COMM_TYPE_SHARED), in
  /// [0, local_size()); the natural index for choosing this rank's GPU.
  int local_rank() const { return local_rank_; }
  /// Number of ranks on this node.
  int local_size() const { return local_size_; }
  /// This node's name as MPI reports it (MPI_Get_processor_name).
  const std::string& hostname() const { return hostname_; }

  /// True when a launcher (Open MPI's mpirun, or a PMI/PMIx one such as Slurm's srun) started
  /// this process, judged from the environment it sets; does not start MPI.
  static bool launched_by_mpirun();

 private:
  int rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  std::string hostname_;
  // std::uncaught_exceptions() at construction: more at destruction means we are unwinding.
  int uncaught_at_start_ = 0;
};

/// Ends the whole job because this rank failed: prints "error: [rank r] <message>" to stderr as
/// one line (newlines in the message become spaces, so ranks' lines do not interleave) and calls
/// MPI_Abort(MPI_COMM_WORLD, exit_code). Without a running MPI it exits the process with
/// exit_code, which a launcher also treats as the job failing. Never returns.
[[noreturn]] void abort_world(const std::string& message, int exit_code);

}  // namespace ptqat::distributed
