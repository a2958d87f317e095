#pragma once
// "Did you mean" hints: the known name nearest a mistyped one (config keys, subcommands, flags).

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ptqat::core {

/// Levenshtein distance: the fewest single-character insertions, deletions and substitutions.
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest `word` by edit distance, the first of equals, if it is at most
/// `max_distance` away; otherwise "".
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates,
                         size_t max_distance = std::numeric_limits<size_t>::max());

}  // namespace ptqat::core
