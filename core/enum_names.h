#pragma once
// Enum values and their names as one table (config values, record fields, command lines), so
// that the name of a value and the value of a name are written once, as a list of pairs.

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace ptqat::core {

template <class Enum>
using EnumName = std::pair<Enum, const char*>;

/// The name of `value` in `names`. A value missing from its table is a bug: InternalError
/// naming `type`.
template <class Enum, size_t N>
const char* name_of(Enum value, const EnumName<Enum> (&names)[N], const char* type) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  PTQAT_FAIL(InternalError, "unknown {} {}", type, static_cast<int>(value));
}

/// The value named `name` in `names`, or nullopt: the caller reports bad input in its words.
template <class Enum, size_t N>
std::optional<Enum> value_of(std::string_view name, const EnumName<Enum> (&names)[N]) {
  for (const auto& [value, candidate] : names) {
    if (name == candidate) return value;
  }
  return std::nullopt;
}

}  // namespace ptqat::core
