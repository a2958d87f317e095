#pragma once
// A sweep file (docs/sweeps.md): base run config(s), overrides every point shares, and one or
// more grids of config keys whose every combination is a point. This file knows config keys only
// as text: binding a point's overrides to a typed config, and merging equal stages by their
// stage keys, is the runner's part.
//
//   base = "../detection/tiny.toml"        # or a list: an axis of its own
//   ranks_per_run = 1
//   [set]                                   # applied to every point
//   "train.epochs" = 1
//   [grid]                                  # or [[grid]] tables: their points are joined
//   "quant.method" = ["ptq", "qat", "ptqat"]
//   "quant.weight_bits" = [4, 8]

#include <string>
#include <utility>
#include <vector>

namespace ptqat::sweeps {

/// One axis of a grid: a dotted config key and its values, each as TOML value text ("4",
/// "\"ptq\"", "0.5") ready for a `key=value` override.
struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

struct SweepSpec {
  std::string path;                     ///< the sweep file
  std::vector<std::string> bases;       ///< base config files, relative to the working folder
  std::vector<std::string> overrides;   ///< [set], as "key=value"
  std::vector<std::vector<SweepAxis>> grids;
  int ranks_per_run = 1;                ///< ranks that run one stage together
};

/// One combination: its base config and the overrides that make it ([set], then the command
/// line's, then the grid's), plus the grid's assignments alone, for display.
struct SweepPoint {
  std::string base;
  std::vector<std::string> overrides;
  std::vector<std::pair<std::string, std::string>> assignments;
};

/// Reads a sweep file. ConfigError naming the file and key for a missing file, bad TOML, an
/// unknown top-level key, an empty or non-array axis, or a non-scalar value.
SweepSpec load_sweep_spec(const std::string& path);

/// Every point of every grid, in file order with the last axis varying fastest. `cli_overrides`
/// ("key=value") apply to every point after [set]; one that names a grid axis is a ConfigError
/// (the grid would silently win).
std::vector<SweepPoint> expand_points(const SweepSpec& spec,
                                      const std::vector<std::string>& cli_overrides);

}  // namespace ptqat::sweeps
