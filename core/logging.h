#pragma once
// Logging through spdlog. Under MPI every line carries the rank; only rank 0 logs at info level
// by default so a 64-rank job does not print 64 copies of each message.

#include <spdlog/spdlog.h>

#include <string>

namespace ptqat::core {

/// Configures the default logger: level by name (trace..off), "[rank r/n]" prefix when n > 1.
/// Ranks other than 0 log warnings and errors only, unless the level is debug or trace.
void init_logging(const std::string& level, int rank = 0, int world_size = 1);

}  // namespace ptqat::core
