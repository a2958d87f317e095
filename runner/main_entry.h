#pragma once
// The `ptqat` program as a function, for programs that register their own tasks
// (runner/task_plugins.h) and then behave exactly like `ptqat`:
//
//   int main(int argc, char** argv) {
//     ptqat::runner::register_task<MyOptions>("my_task", make_my_task);
//     return ptqat::runner::run_main(argc, argv);
//   }

namespace ptqat::runner {

/// Starts MPI when launched by mpirun/srun, runs the command line (run_cli), prints errors as
/// one line, and ends the whole job when one rank fails. Returns the process exit code.
int run_main(int argc, char** argv);

}  // namespace ptqat::runner
