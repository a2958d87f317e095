#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/error.h"

namespace ptqat::core {

void init_logging(const std::string& level, int rank, int world_size) {
  const auto parsed = spdlog::level::from_str(level);
  PTQAT_CHECK(parsed != spdlog::level::off || level == "off", ConfigError,
              "runtime.log_level: expected one of trace, debug, info, warn, error, off, got \"{}\"",
              level);
  spdlog::drop("ptqat");  // a second init (tests, library users) replaces the logger
  auto logger = spdlog::stderr_color_mt("ptqat");
  spdlog::set_default_logger(logger);
  if (world_size > 1) {
    spdlog::set_pattern(fmt::format("[%H:%M:%S.%e] [rank {}/{}] [%^%l%$] %v", rank, world_size));
  } else {
    spdlog::set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  }
  const bool quiet_rank = rank != 0 && parsed > spdlog::level::debug;
  spdlog::set_level(quiet_rank ? std::max(parsed, spdlog::level::warn) : parsed);
}

}  // namespace ptqat::core
