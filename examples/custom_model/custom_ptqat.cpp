// `ptqat` with one more task: everything the ptqat command does (train, quantize, eval, sweep,
// report, slurm, under mpirun or not), plus `task = "presence"` in configs.

#include "presence_task.h"
#include "runner/main_entry.h"

int main(int argc, char** argv) {
  presence::register_presence_task();
  return ptqat::runner::run_main(argc, argv);
}
