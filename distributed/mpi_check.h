#pragma once
// PTQAT_MPI_CHECK: every MPI return code goes through this macro (docs/style.md "Errors"; the pattern
// is NCCL's NCCLCHECK). A failing call becomes a ptqat::DistError whose one-line message names
// the call, MPI's own error string, the source location and the rank, so a log from a 64-rank
// job says which rank failed where.
//
// Return codes only reach the caller when the communicator's error handler is
// MPI_ERRORS_RETURN; MpiWorld installs it on MPI_COMM_WORLD (communicators derived from it
// inherit it), see Note [MPI errors become exceptions] in mpi_world.h.

#include <mpi.h>

#include <string>

#include "core/error.h"

namespace ptqat::distributed::detail {

/// This process's rank in MPI_COMM_WORLD, or -1 when MPI is not running (not yet initialized,
/// already finalized, or the query itself failed). Safe to call at any time: MPI_Initialized
/// and MPI_Finalized are the two calls MPI allows outside MPI_Init..MPI_Finalize.
inline int world_rank_or_unknown() noexcept {
  int initialized = 0;
  int finalized = 0;
  if (MPI_Initialized(&initialized) != MPI_SUCCESS || !initialized) return -1;
  if (MPI_Finalized(&finalized) != MPI_SUCCESS || finalized) return -1;
  int rank = -1;
  if (MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS) return -1;
  return rank;
}

/// MPI's text for an error code; falls back to the number when MPI cannot describe it.
inline std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) {
    return fmt::format("unknown MPI error {}", code);
  }
  return std::string(text, static_cast<size_t>(length));
}

/// Throws the DistError for a failed MPI call. A function rather than macro text, so each check
/// site expands to one compare and one call.
[[noreturn]] inline void throw_mpi_error(const char* call, int code, const char* file, int line) {
  const int rank = world_rank_or_unknown();
  const std::string where = rank >= 0 ? fmt::format("rank {}", rank) : std::string("rank ?");
  throw DistError(fmt::format("{} failed: {} (code {}) at {}:{} on {}", call, mpi_error_text(code),
                              code, file, line, where));
}

}  // namespace ptqat::distributed::detail

/// Evaluates the MPI call once; throws ptqat::DistError naming the call, MPI's error string,
/// file:line and the rank when it does not return MPI_SUCCESS.
#define PTQAT_MPI_CHECK(call)                                                                    \
  do {                                                                                           \
    const int ptqat_mpi_code_ = (call);                                                          \
    if (ptqat_mpi_code_ != MPI_SUCCESS) {                                                        \
      ::ptqat::distributed::detail::throw_mpi_error(#call, ptqat_mpi_code_, __FILE__, __LINE__); \
    }                                                                                            \
  } while (false)
