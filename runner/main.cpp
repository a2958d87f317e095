// The ptqat executable: the built-in tasks only (runner/main_entry.h).

#include "runner/main_entry.h"

int main(int argc, char** argv) { return ptqat::runner::run_main(argc, argv); }
