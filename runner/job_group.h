#pragma once
// The ranks of this ptqat job: every rank that mpirun (or srun) started, or this process alone.

#include "core/collective.h"

namespace ptqat::runner {

/// The job's group: an MPI communicator over every rank when MPI is running (main() starts it
/// when a launcher started the process), otherwise a group of one. The same object every call.
core::Collective& job_group();

/// This process's rank in the job and the job's size (0 and 1 without MPI). Unlike job_group(),
/// not collective: any rank may ask at any time.
int job_rank();
int job_size();
/// This process's rank among the job's ranks on its node (0 without MPI): which GPU it takes.
/// Known once job_group() has run (collectively) on every rank.
int job_local_rank();

}  // namespace ptqat::runner
