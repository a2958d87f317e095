#include "core/error.h"

namespace ptqat::detail {

void throw_internal(const char* condition, const char* file, int line, const std::string& message) {
  throw InternalError(fmt::format("internal error (this is a bug in ptqat) at {}:{}: {} failed: {}",
                                  file, line, condition, message));
}

}  // namespace ptqat::detail
