#pragma once
// "did you mean ...?" for a command line that CLI11 refused: the first word that names no
// subcommand or option where it stands, and the closest name that does.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ptqat::runner {

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo (at
/// most a third of the word's length, at least 2), or a candidate `word` is a prefix of; else "".
std::string suggested_name(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'train'?)" for the first unknown subcommand or option of `argv` under `app`,
/// or "" when there is none or nothing is close.
std::string suggestion_for(const CLI::App& app, int argc, const char* const* argv);

}  // namespace ptqat::runner
