#include "sweeps/sweep_spec.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>

#include "core/error.h"

namespace ptqat::sweeps {
namespace {

namespace fs = std::filesystem;

std::string where(const std::string& path, const toml::node& node) {
  const toml::source_region& source = node.source();
  if (source.begin.line == 0) return path;
  return path + ":" + std::to_string(source.begin.line);
}

/// A scalar as TOML value text: strings quoted and escaped, numbers and booleans as written.
std::string value_text(const std::string& path, const std::string& key, const toml::node& node) {
  PTQAT_CHECK(node.is_value(), ConfigError,
              "{}: '{}' expected a string, number or boolean value, got a table or array",
              where(path, node), key);
  std::ostringstream text;
  node.visit([&](const auto& value) { text << value; });
  return text.str();
}

/// The leaves of `table` under dotted keys, in file order: `quant.weight.bits = [4]` written
/// unquoted is nested tables in TOML, and toml++ iterates a table sorted by key.
std::vector<std::pair<std::string, const toml::node*>> dotted_leaves(const toml::table& table) {
  std::vector<std::pair<std::string, const toml::node*>> leaves;
  const std::function<void(const toml::table&, const std::string&)> walk =
      [&](const toml::table& level, const std::string& prefix) {
        for (const auto& [key, node] : level) {
          const std::string dotted = prefix + std::string(key.str());
          if (const toml::table* nested = node.as_table()) {
            walk(*nested, dotted + ".");
          } else {
            leaves.emplace_back(dotted, &node);
          }
        }
      };
  walk(table, "");
  std::stable_sort(leaves.begin(), leaves.end(), [](const auto& a, const auto& b) {
    const toml::source_position& x = a.second->source().begin;
    const toml::source_position& y = b.second->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  return leaves;
}

std::vector<SweepAxis> read_grid(const std::string& path, const toml::table& table) {
  std::vector<SweepAxis> axes;
  for (const auto& [name, entry] : dotted_leaves(table)) {
    const toml::node& node = *entry;
    const toml::array* values = node.as_array();
    PTQAT_CHECK(values != nullptr && !values->empty(), ConfigError,
                "{}: grid axis '{}' expected a non-empty array of values", where(path, node), name);
    SweepAxis axis{name, {}};
    for (const toml::node& value : *values) axis.values.push_back(value_text(path, name, value));
    axes.push_back(std::move(axis));
  }
  return axes;
}

}  // namespace

SweepSpec load_sweep_spec(const std::string& path) {
  PTQAT_CHECK(fs::is_regular_file(path), ConfigError, "{}: no such sweep file", path);
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    PTQAT_FAIL(ConfigError, "{}:{}: {}", path, error.source().begin.line, error.description());
  }
  SweepSpec spec;
  spec.path = path;
  const fs::path folder = fs::path(path).parent_path();
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    if (name == "base") {
      std::vector<const toml::node*> bases;
      if (const toml::array* list = node.as_array()) {
        for (const toml::node& base : *list) bases.push_back(&base);
      } else {
        bases.push_back(&node);
      }
      PTQAT_CHECK(!bases.empty(), ConfigError, "{}: 'base' expected a config path or a "
                  "non-empty list of them", where(path, node));
      for (const toml::node* base : bases) {
        const std::optional<std::string> file = base->value<std::string>();
        PTQAT_CHECK(file.has_value(), ConfigError, "{}: 'base' expected config paths (strings)",
                    where(path, *base));
        spec.bases.push_back((folder / *file).lexically_normal().string());
      }
    } else if (name == "ranks_per_run") {
      const std::optional<int64_t> ranks = node.value<int64_t>();
      PTQAT_CHECK(ranks.has_value() && *ranks >= 1 && *ranks <= 65536, ConfigError,
                  "{}: 'ranks_per_run' expected an integer >= 1", where(path, node));
      spec.ranks_per_run = static_cast<int>(*ranks);
    } else if (name == "set") {
      const toml::table* set = node.as_table();
      PTQAT_CHECK(set != nullptr, ConfigError, "{}: 'set' expected a table of key = value",
                  where(path, node));
      for (const auto& [dotted, value] : dotted_leaves(*set)) {
        spec.overrides.push_back(dotted + "=" + value_text(path, dotted, *value));
      }
    } else if (name == "grid") {
      if (const toml::table* grid = node.as_table()) {
        spec.grids.push_back(read_grid(path, *grid));
      } else if (const toml::array* grids = node.as_array(); grids && grids->is_array_of_tables()) {
        for (const toml::node& grid : *grids) spec.grids.push_back(read_grid(path, *grid.as_table()));
      } else {
        PTQAT_FAIL(ConfigError, "{}: 'grid' expected a table ([grid]) or tables ([[grid]])",
                   where(path, node));
      }
    } else {
      PTQAT_FAIL(ConfigError,
                 "{}: unknown key '{}' (expected base, ranks_per_run, [set] or [grid])",
                 where(path, node), name);
    }
  }
  PTQAT_CHECK(!spec.bases.empty(), ConfigError, "{}: expected 'base', the run config to sweep",
              path);
  if (spec.grids.empty()) spec.grids.emplace_back();  // no grid: the base config is the one point
  return spec;
}

std::vector<SweepPoint> expand_points(const SweepSpec& spec,
                                      const std::vector<std::string>& cli_overrides) {
  std::set<std::string> axis_keys;
  for (const auto& grid : spec.grids) {
    for (const SweepAxis& axis : grid) axis_keys.insert(axis.key);
  }
  for (const std::string& assignment : cli_overrides) {
    const std::string key = assignment.substr(0, assignment.find('='));
    PTQAT_CHECK(axis_keys.count(key) == 0, ConfigError,
                "--set {}: '{}' is an axis of the grid in {}; change the grid instead", assignment,
                key, spec.path);
  }
  std::vector<SweepPoint> points;
  for (const std::string& base : spec.bases) {
    for (const auto& grid : spec.grids) {
      // An odometer over the axes, the last axis turning fastest.
      std::vector<size_t> digit(grid.size(), 0);
      while (true) {
        SweepPoint point{base, spec.overrides, {}};
        point.overrides.insert(point.overrides.end(), cli_overrides.begin(), cli_overrides.end());
        for (size_t a = 0; a < grid.size(); ++a) {
          const std::string& value = grid[a].values[digit[a]];
          point.overrides.push_back(grid[a].key + "=" + value);
          point.assignments.emplace_back(grid[a].key, value);
        }
        points.push_back(std::move(point));
        size_t a = grid.size();
        while (a > 0 && ++digit[a - 1] == grid[a - 1].values.size()) digit[--a] = 0;
        if (a == 0) break;
      }
    }
  }
  return points;
}

}  // namespace ptqat::sweeps
