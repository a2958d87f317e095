#pragma once
// The ranks of this ptqat job: every rank that mpirun (or srun) started, or this process alone.
// "The job" is every rank of MPI_COMM_WORLD; a sweep splits it into groups of ranks
// (sweeps/scheduler.h), each a distributed::MpiCommunicator.

#include "core/collective.h"

namespace ptqat::distributed {

/// The job's group: an MPI communicator over every rank when MPI is running (main() starts it
/// when a launcher started the process), otherwise a group of one. The same object every call.
core::Collective& job_group();

/// Whether MPI is initialised in this process (a launcher started it; runner/main_entry.h).
bool mpi_running();

/// This process's rank in the job and the job's size (0 and 1 without MPI). Unlike job_group(),
/// not collective: any rank may ask at any time.
int job_rank();
int job_size();
/// This process's rank among the job's ranks on its node (0 without MPI): which GPU it takes.
/// Known once job_group() has run (collectively) on every rank.
int job_local_rank();
/// How many of the job's ranks share this node (1 without MPI); known as job_local_rank() is.
int job_local_size();

}  // namespace ptqat::distributed
