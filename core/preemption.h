#pragma once
// Preemption (docs/distributed.md "Preemption and time limits"): a signal asks the job to stop
// soon; the running stage checkpoints at a step every rank agrees on and the job exits with
// kPreemptedExitCode, so that a requeued job (Slurm --requeue) resumes where it stopped.
//
// SIGUSR1 by default, because mpirun forwards it to every rank and Slurm's `--signal` can send
// it ahead of a time limit; SIGTERM is a poor choice under mpirun, which answers it by killing
// the ranks before a handler could finish its checkpoint. Under srun, Slurm's preemption and
// scancel send SIGTERM to every rank itself (and SIGKILL KillWait seconds later), so the batch
// scripts of `ptqat slurm` take both: --preempt-signal USR1,TERM.

#include <string>

#include "core/collective.h"
#include "core/error.h"

namespace ptqat::core {

/// Exit code of a preempted job: EX_TEMPFAIL from <sysexits.h>, "try again later".
inline constexpr int kPreemptedExitCode = 75;

/// Thrown once the running stage has saved its resume point; the CLI exits with
/// kPreemptedExitCode.
class Preempted : public Error {
 public:
  using Error::Error;
};

/// Installs the handler for the signals named in `names`, comma-separated ("USR1", "USR2",
/// "TERM", "INT", "HUP", each with or without a "SIG" prefix; "USR1,TERM"), or none for "none".
/// ConfigError for another name.
void install_preemption_signals(const std::string& names);

/// Whether this process received the preemption signal.
bool preemption_requested();

/// Whether any rank of `group` received it: an all-reduce, so every rank of the group calls it
/// at the same point (after a training step) and all of them get the same answer.
bool preemption_agreed(Collective& group);

/// Raises the flag as the signal would (tests, and a coordinator that stops on a peer's word).
void request_preemption();

}  // namespace ptqat::core
