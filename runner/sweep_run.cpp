#include "runner/sweep_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/stage_key.h"
#include "distributed/job_group.h"
#include "quant/quant_config.h"
#include "results/results_listing.h"
#include "results/results_store.h"
#include "runner/float_training.h"
#include "runner/quantization.h"
#include "runner/stage_context.h"
#include "runner/stage_keys.h"
#include "sweeps/scheduler.h"
#include "sweeps/sweep_spec.h"

namespace ptqat::runner {
namespace {

namespace fs = std::filesystem;

/// The "key=value" lines of `config`'s canonical form for `stage` whose key is a grid axis: what
/// tells this stage apart from the others of the plan.
std::string describe(const RunConfig& config, core::Stage stage,
                     const std::set<std::string>& axis_keys) {
  RunConfig copy = config;
  std::istringstream lines(core::canonical_form(core::fields_of(copy), stage));
  // Fields the fine-tune's method ignores do not tell it apart (stage_keys drops them too).
  std::set<std::string> ignored;
  for (const IgnoredField& field : ignored_fields(config.quant)) ignored.insert(field.key);
  std::string description;
  for (std::string line; std::getline(lines, line);) {
    const std::string key = line.substr(0, line.find('='));
    if (axis_keys.count(key) == 0 || ignored.count(key) != 0) continue;
    description += (description.empty() ? "" : " ") + line;
  }
  return description;
}

/// Whether `name` is `prefix` or lies under it, a path of names ("detection-cnn" takes
/// "detection-cnn/w4a8/qat/seed0", not "detection-cnn2/...").
bool named_under(const std::string& name, const std::string& prefix) {
  return name.compare(0, prefix.size(), prefix) == 0 &&
         (name.size() == prefix.size() || prefix.back() == '/' || name[prefix.size()] == '/');
}

bool selected(const std::vector<std::string>& only, const StageNames& names) {
  const std::string& last = names.fine_tune.empty() ? names.calibrate : names.fine_tune;
  return only.empty() || std::any_of(only.begin(), only.end(), [&](const std::string& prefix) {
           return named_under(last, prefix);
         });
}

struct Plan {
  std::vector<RunConfig> configs;  ///< per sweep point
  sweeps::StageGraph graph;
  int ranks_per_run = 1;
  std::string output_dir;
  std::string results_file;
};

Plan plan_sweep(const SweepOptions& options) {
  const sweeps::SweepSpec spec = sweeps::load_sweep_spec(options.sweep_file);
  std::vector<std::string> overrides = options.overrides;
  if (!options.out.empty()) overrides.push_back("output.results=\"" + options.out + "\"");
  const std::vector<sweeps::SweepPoint> points = sweeps::expand_points(spec, overrides);
  std::set<std::string> axis_keys;
  for (const auto& grid : spec.grids) {
    for (const sweeps::SweepAxis& axis : grid) axis_keys.insert(axis.key);
  }

  Plan plan;
  plan.ranks_per_run = spec.ranks_per_run;
  for (size_t i = 0; i < points.size(); ++i) {
    const sweeps::SweepPoint& point = points[i];
    std::string label;
    for (const auto& [key, value] : point.assignments) label += " " + key + "=" + value;
    RunConfig config;
    try {
      config = with_ranks(load_run_config(point.base, point.overrides), spec.ranks_per_run);
    } catch (const ConfigError& error) {
      PTQAT_FAIL(ConfigError, "{}: point{}: {}", spec.path, label, error.what());
    }
    if (plan.configs.empty()) {
      plan.output_dir = config.output.dir;
      plan.results_file = results_path(config.output);
    }
    // One sweep, one store: the scheduler asks one folder what is recorded.
    PTQAT_CHECK(
        config.output.dir == plan.output_dir && results_path(config.output) == plan.results_file,
        ConfigError,
        "{}: point{}: output.dir '{}' differs from the first point's '{}'; a sweep "
        "writes one results store",
        spec.path, label, config.output.dir, plan.output_dir);
    const StageNames names = stage_names(config);
    if (!selected(options.only, names)) continue;
    const StageKeys keys = stage_keys(config);
    const size_t index = plan.configs.size();  // the point's config in plan.configs
    plan.graph.add({keys.float_train, "", core::stage_name(core::Stage::kFloatTrain),
                    describe(config, core::Stage::kFloatTrain, axis_keys), index,
                    names.float_train});
    plan.graph.add({keys.calibrate, keys.float_train, core::stage_name(core::Stage::kCalibrate),
                    describe(config, core::Stage::kCalibrate, axis_keys), index, names.calibrate});
    if (!keys.fine_tune.empty()) {
      plan.graph.add({keys.fine_tune, keys.calibrate, core::stage_name(core::Stage::kFineTune),
                      describe(config, core::Stage::kFineTune, axis_keys), index, names.fine_tune});
    }
    plan.configs.push_back(std::move(config));
  }
  PTQAT_CHECK(!plan.configs.empty(), ConfigError,
              "{}: --only {}: no point's name starts with it (names look like "
              "'detection-cnn/w4a8/qat/seed0'; ptqat sweep --dry-run lists them)",
              spec.path, fmt::join(options.only, " --only "));
  return plan;
}

/// The stages the sweep skips: each recorded and current (results::ResultsStore::is_current), with
/// its parent skipped too (a parent that runs makes a new version, which its children continue),
/// and with its checkpoint on disk where a stage that runs continues from it. A recorded stage
/// whose checkpoint is gone (the store copied without its checkpoints, a purged scratch folder)
/// is made again when something still needs it, and so are the stages below it.
std::set<std::string> stages_to_skip(const Plan& plan, const results::ResultsStore& store) {
  const std::vector<sweeps::StageNode>& nodes = plan.graph.nodes();
  std::vector<bool> skip(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) skip[i] = store.is_current(nodes[i].key);
  for (bool changed = true; changed;) {
    changed = false;
    const auto run = [&](size_t i) {
      skip[i] = false;
      changed = true;
    };
    // Parents come before their children in nodes().
    for (size_t i = 0; i < nodes.size(); ++i) {
      const long parent = plan.graph.index_of(nodes[i].parent);
      if (skip[i] && parent >= 0 && !skip[static_cast<size_t>(parent)]) run(i);
    }
    for (size_t i = nodes.size(); i-- > 0;) {
      if (!skip[i]) continue;
      const std::vector<size_t> children = plan.graph.children(static_cast<long>(i));
      const bool needed =
          std::any_of(children.begin(), children.end(), [&](size_t c) { return !skip[c]; });
      const RunConfig& config = plan.configs[nodes[i].point];
      if (needed && !fs::exists(stage_paths(config, nodes[i].key).checkpoint)) run(i);
    }
  }
  std::set<std::string> keys;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (skip[i]) keys.insert(nodes[i].key);
  }
  return keys;
}

/// Stages alike in cost, for the sweep's ETA (sweeps::StageTimes): "fine_tune detection-cnn
/// ptqat", "float_train detection-cnn".
std::string timing_class(const std::string& name, const std::string& stage,
                         const std::string& method) {
  std::string text = stage + " " + name.substr(0, name.find('/'));
  if (stage == core::stage_name(core::Stage::kFineTune)) text += " " + method;
  return text;
}

/// The plan's stage classes and the wall times of the recorded stages of each class (this
/// sweep's and any other's in the same results file).
sweeps::StageTimes stage_times(const Plan& plan) {
  sweeps::StageTimes times;
  for (const sweeps::StageNode& node : plan.graph.nodes()) {
    const RunConfig& config = plan.configs[node.point];
    times.classes.push_back(
        timing_class(node.name, node.stage, quant::method_name(config.quant.method)));
  }
  std::error_code error;
  if (!fs::exists(plan.results_file, error)) return times;
  for (const results::RunRecord& run : results::read_results(plan.results_file)) {
    if (run.labels.name.empty() || run.wall_time_s <= 0) continue;
    times.recorded_s[timing_class(run.labels.name, run.stage, run.method)].push_back(
        run.wall_time_s);
  }
  return times;
}

/// Runs one stage of the plan on `group`; its report goes to <output.dir>/logs/<key>.log.
void run_stage(const Plan& plan, const sweeps::StageNode& node, core::Collective& group) {
  RunConfig config = plan.configs[node.point];
  std::ostringstream discarded;
  std::ofstream log;
  if (group.rank() == 0) {
    const fs::path logs = fs::path(config.output.dir) / "logs";
    fs::create_directories(logs);
    log.open(logs / (node.key + ".log"), std::ios::app);
    PTQAT_CHECK(log.good(), IoError, "{}: cannot write the stage log", (logs / node.key).string());
  }
  std::ostream& out = group.rank() == 0 ? static_cast<std::ostream&>(log) : discarded;
  if (node.stage == core::stage_name(core::Stage::kFloatTrain)) {
    run_float_training(config, group, out);
  } else {
    // The calibration stage is what PTQ runs; a fine-tune finds its calibration recorded.
    if (node.stage == core::stage_name(core::Stage::kCalibrate)) {
      config.quant.method = quant::QuantMethod::kPtq;
    }
    run_quantization(config, group, out);
  }
}

}  // namespace

void run_sweep(const SweepOptions& options, std::ostream& out) {
  const Plan plan = plan_sweep(options);
  // World rank 0 alone reads the store and writes the final view; the scheduler tells the
  // other ranks what is recorded.
  const bool writer = distributed::job_group().rank() == 0;
  std::optional<results::ResultsStore> store;
  std::set<std::string> skipped;
  const auto recorded = [&](const std::string& key) { return skipped.count(key) != 0; };
  if (writer) {
    store.emplace(plan.output_dir);
    store->check_view(plan.results_file);  // before any stage: its consolidation would fail
    skipped = stages_to_skip(plan, *store);
    out << fmt::format("sweep {}: {} points, {} ranks per run, results {}\n", options.sweep_file,
                       plan.configs.size(), plan.ranks_per_run, plan.results_file);
    plan.graph.print_plan(out, recorded);
  }
  if (options.dry_run) return;

  const sweeps::ScheduleSummary summary = sweeps::run_graph(
      plan.graph, recorded, plan.ranks_per_run,
      [&](const sweeps::StageNode& node, core::Collective& group) { run_stage(plan, node, group); },
      out, writer ? stage_times(plan) : sweeps::StageTimes{});
  if (!writer) return;
  out << fmt::format("ran {} stages, {} were recorded already\n", summary.run, summary.skipped);
  // Each stage consolidated after its record; once more here, so that the view holds every
  // record even where the sweep ran nothing.
  store->consolidate(plan.results_file);
  out << results::results_table(results::read_results(plan.results_file));
  out << "results: " << plan.results_file << "\n";
}

}  // namespace ptqat::runner
