#pragma once
// The exit codes of `ptqat`, the documented set (docs/quickstart.md "Exit codes"). Scripts and
// schedulers act on them: 75 means "run the same command again to resume".

#include "core/preemption.h"

namespace ptqat::runner::exit_code {

inline constexpr int kDone = 0;
/// Bad input or a failed resource, reported as one line: a config, data, file or MPI problem
/// (a ptqat::Error). Nothing recorded before it is lost.
inline constexpr int kError = 1;
/// The command line itself is wrong: an unknown flag or subcommand, a missing argument.
inline constexpr int kUsage = 2;
/// A bug in ptqat or a library failure it did not expect (sysexits' EX_SOFTWARE).
inline constexpr int kInternal = 70;
/// Stopped at a checkpoint by the preemption signal; resumable (sysexits' EX_TEMPFAIL).
inline constexpr int kPreempted = core::kPreemptedExitCode;

}  // namespace ptqat::runner::exit_code
