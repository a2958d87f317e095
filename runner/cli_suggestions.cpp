#include "runner/cli_suggestions.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/closest_name.h"

namespace ptqat::runner {
namespace {

/// The option of `app` or of an app above it (options such as --log-level are the root's) that
/// `name` ("--config", "-h") names.
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent()) {
    const auto options = app->get_options([&](const CLI::Option* option) {
      return !option->get_positional() && option->check_name(name);
    });
    if (!options.empty()) return options.front();
  }
  return nullptr;
}

std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* option : app->get_options()) {
      for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    }
  }
  return names;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string closest = suggested_name(word, candidates);
  return closest.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", closest);
}

}  // namespace

std::string suggested_name(const std::string& word, const std::vector<std::string>& candidates) {
  // CLI11 2.1 suggests nothing. A third of the word, at least 2 edits, is a typo; further off,
  // a word that begins a name is an abbreviation.
  const std::string typo =
      core::closest_name(word, candidates, std::max<size_t>(2, word.size() / 3));
  if (!typo.empty()) return typo;
  for (const std::string& candidate : candidates) {
    if (word.size() >= 2 && candidate.rfind(word, 0) == 0) return candidate;
  }
  return "";
}

std::string suggestion_for(const CLI::App& app, int argc, const char* const* argv) {
  const CLI::App* current = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    if (token == "--") break;
    if (token.size() > 1 && token[0] == '-') {
      const std::string name = token.substr(0, token.find('='));
      const CLI::Option* option = find_option(current, name);
      if (option == nullptr) return did_you_mean(name, option_names(current));
      // Its value is the next word (unless given as --name=value).
      if (token.find('=') == std::string::npos && option->get_expected_max() > 0) ++i;
      continue;
    }
    const auto named = current->get_subcommands(
        [&](const CLI::App* subcommand) { return subcommand->check_name(token); });
    if (!named.empty()) {
      current = named.front();
      continue;
    }
    const auto positionals =
        current->get_options([](const CLI::Option* option) { return option->get_positional(); });
    if (!positionals.empty()) continue;  // a positional's value
    std::vector<std::string> subcommands;
    for (const CLI::App* subcommand : current->get_subcommands({})) {
      subcommands.push_back(subcommand->get_name());
    }
    return did_you_mean(token, subcommands);
  }
  return "";
}

}  // namespace ptqat::runner
