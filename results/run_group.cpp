#include "results/run_group.h"

#include <fmt/format.h>

#include <map>
#include <stdexcept>

#include "core/error.h"
#include "core/version.h"

namespace ptqat::results {

namespace h5 = core::h5;

bool is_valid_key(const std::string& key) {
  if (key.empty() || key.size() > 200) return false;
  for (const char c : key) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void check_key(const std::string& key) {
  PTQAT_CHECK(is_valid_key(key), ConfigError,
              "'{}' is not a stage key (expected letters, digits, '_' or '-')", key);
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

namespace {

/// Names that become HDF5 link names (Note in results_store.h on RunRecord).
void check_link_name(const std::string& what, const std::string& name, const std::string& key) {
  PTQAT_ASSERT(!name.empty() && name != "." && name.find('/') == std::string::npos,
               "record {}: {} name '{}' cannot name an HDF5 dataset", key, what, name);
}

}  // namespace

void check_record(const RunRecord& record) {
  check_key(record.key);
  PTQAT_ASSERT(record.parent_key.empty() || is_valid_key(record.parent_key),
               "record {}: parent key '{}' is not a stage key", record.key, record.parent_key);
  for (const auto& [name, value] : record.metrics) check_link_name("metric", name, record.key);
  for (const auto& [name, values] : record.per_class) {
    check_link_name("per-class metric", name, record.key);
    PTQAT_ASSERT(name != "classes", "record {}: a per-class metric cannot be called 'classes'",
                 record.key);
    PTQAT_ASSERT(values.size() == record.class_names.size(),
                 "record {}: per-class metric '{}' has {} values for {} classes", record.key, name,
                 values.size(), record.class_names.size());
  }
  for (const auto& [name, history] : record.history) {
    check_link_name("history", name, record.key);
    PTQAT_ASSERT(!ends_with(name, "_step"), "record {}: history name '{}' ends in '_step'",
                 record.key, name);
    PTQAT_ASSERT(history.steps.size() == history.values.size(),
                 "record {}: history '{}' has {} steps for {} values", record.key, name,
                 history.steps.size(), history.values.size());
  }
}

namespace {

hsize_t length(size_t size) { return static_cast<hsize_t>(size); }

/// Column "discrepancy_<measure>" of the layers group holds one measure (LayerRow::measures).
const std::string kMeasurePrefix = "discrepancy_";

void write_layers(const h5::Group& group, const std::vector<LayerRow>& layers) {
  std::vector<std::string> names, kinds;
  std::vector<int64_t> forward_index, parameters, weight_bits, input_bits, keep_float, ranked,
      frozen;
  std::vector<double> discrepancy;
  std::map<std::string, std::vector<double>> measures;
  for (const LayerRow& row : layers) {
    PTQAT_ASSERT(row.measures.size() == layers.front().measures.size(),
                 "layer '{}' has {} measures, layer '{}' {}", row.name, row.measures.size(),
                 layers.front().name, layers.front().measures.size());
    for (const auto& [name, value] : row.measures) measures[name].push_back(value);
    ranked.push_back(row.ranked ? 1 : 0);
    names.push_back(row.name);
    kinds.push_back(row.kind);
    forward_index.push_back(row.forward_index);
    parameters.push_back(row.parameters);
    weight_bits.push_back(row.weight_bits);
    input_bits.push_back(row.input_bits);
    keep_float.push_back(row.keep_float ? 1 : 0);
    discrepancy.push_back(row.discrepancy);
    frozen.push_back(row.frozen ? 1 : 0);
  }
  const std::vector<hsize_t> dims{length(layers.size())};
  group.write_strings("name", names);
  group.write_strings("kind", kinds);
  group.write("forward_index", forward_index, dims);
  group.write("parameters", parameters, dims);
  group.write("weight_bits", weight_bits, dims);
  group.write("input_bits", input_bits, dims);
  group.write("keep_float", keep_float, dims, H5T_STD_I8LE);  // h5py: int8 0/1
  group.write("ranked", ranked, dims, H5T_STD_I8LE);
  group.write("discrepancy", discrepancy, dims);
  for (const auto& [name, values] : measures) {
    PTQAT_ASSERT(values.size() == layers.size(), "measure '{}' of {} layers, expected {}", name,
                 values.size(), layers.size());
    group.write(kMeasurePrefix + name, values, dims);
  }
  group.write("frozen", frozen, dims, H5T_STD_I8LE);
}

/// The labels are attributes "label_<name>" of the run group (docs/results.md).
void write_labels(const h5::Group& run, const RunLabels& labels) {
  run.set_attribute_utf8("label_model", labels.model);
  run.set_attribute_utf8("label_bits", labels.bits);
  run.set_attribute_utf8("label_rule", labels.rule);
  run.set_attribute_utf8("label_freeze_ratio", fmt::format("{:.17g}", labels.freeze_ratio));
  run.set_attribute_utf8("label_epochs", std::to_string(labels.epochs));
  run.set_attribute_utf8("label_primary_metric", labels.primary_metric);
  run.set_attribute_utf8("label_float_group", labels.float_group);
  run.set_attribute_utf8("label_calibrate_group", labels.calibrate_group);
  run.set_attribute_utf8("label_fine_tune_group", labels.fine_tune_group);
  // The flat, typed columns of docs/results.md ("What a record is").
  run.set_attribute_utf8("label", labels.label);
  run.set_attribute_utf8("name", labels.name);
  run.set_attribute("weight_bits", labels.weight_bits);
  run.set_attribute("activation_bits", labels.activation_bits);
  run.set_attribute("freeze_ratio", labels.freeze_ratio);
  run.set_attribute_utf8("rule", labels.rule);
  run.set_attribute_utf8("discrepancy_metric", labels.discrepancy_metric);
  run.set_attribute_utf8("discrepancy_mode", labels.discrepancy_mode);
  run.set_attribute("float_seed", labels.float_seed);
  run.set_attribute("quant_seed", labels.quant_seed);
}

/// A record written before labels existed reads with empty labels; reports reject it by name.
RunLabels read_labels(const h5::Group& run) {
  RunLabels labels;
  if (!run.has_attribute("label_model")) return labels;
  labels.model = run.attribute("label_model");
  labels.bits = run.attribute("label_bits");
  labels.rule = run.attribute("label_rule");
  const std::string ratio = run.attribute("label_freeze_ratio");
  const std::string epochs = run.attribute("label_epochs");
  try {
    labels.freeze_ratio = std::stod(ratio);
    labels.epochs = std::stoll(epochs);
  } catch (const std::logic_error&) {
    PTQAT_FAIL(DataError, "label_freeze_ratio '{}' / label_epochs '{}': expected numbers", ratio,
               epochs);
  }
  labels.primary_metric = run.attribute("label_primary_metric");
  labels.float_group = run.attribute("label_float_group");
  labels.calibrate_group = run.attribute("label_calibrate_group");
  labels.fine_tune_group = run.attribute("label_fine_tune_group");
  if (!run.has_attribute("quant_seed")) return labels;  // written before the flat columns
  labels.label = run.attribute("label");
  if (run.has_attribute("name")) labels.name = run.attribute("name");
  labels.weight_bits = run.int64_attribute("weight_bits");
  labels.activation_bits = run.int64_attribute("activation_bits");
  labels.discrepancy_metric = run.attribute("discrepancy_metric");
  labels.discrepancy_mode = run.attribute("discrepancy_mode");
  labels.float_seed = run.int64_attribute("float_seed");
  labels.quant_seed = run.int64_attribute("quant_seed");
  return labels;
}

}  // namespace

void write_run(const h5::Group& run, const RunRecord& record) {
  run.set_attribute_utf8("key", record.key);
  run.set_attribute_utf8("parent_key", record.parent_key);
  run.set_attribute_utf8("content_hash", record.content_hash);
  run.set_attribute_utf8("parent_content_hash", record.parent_content_hash);
  run.set_attribute_utf8("stage", record.stage);
  run.set_attribute_utf8("task", record.task);
  run.set_attribute_utf8("method", record.method);
  run.set_attribute_utf8("ptqat_version",
                         record.ptqat_version.empty() ? ptqat::version() : record.ptqat_version);
  run.set_attribute_utf8("git_revision",
                         record.git_revision.empty() ? ptqat::git_revision() : record.git_revision);
  run.set_attribute_utf8("started_at", record.started_at);
  run.set_attribute_utf8("finished_at", record.finished_at);
  run.write_string("config", record.config);
  write_labels(run, record.labels);

  const h5::Group costs = run.create_group("costs");
  costs.write_scalar("wall_time_s", record.wall_time_s);
  costs.write_scalar("train_time_s", record.train_time_s);
  costs.write_scalar("attempts", record.attempts);
  costs.write_scalar("peak_host_memory_bytes", record.peak_host_memory_bytes);
  costs.write_scalar("peak_device_memory_bytes", record.peak_device_memory_bytes);
  costs.write_scalar("trainable_parameters", record.trainable_parameters);

  const h5::Group metrics = run.create_group("metrics");
  for (const auto& [name, value] : record.metrics) metrics.write_scalar(name, value);

  const h5::Group per_class = run.create_group("per_class");
  per_class.write_strings("classes", record.class_names);
  for (const auto& [name, values] : record.per_class) {
    per_class.write(name, values, {length(values.size())});
  }

  write_layers(run.create_group("layers"), record.layers);
  const h5::Group provenance = run.create_group("provenance");
  for (const auto& [name, value] : record.provenance) provenance.write_string(name, value);
  const h5::Group overlap = run.create_group("frozen_overlap");
  for (const auto& [name, value] : record.frozen_overlap) overlap.write_scalar(name, value);

  const h5::Group history = run.create_group("history");
  for (const auto& [name, series] : record.history) {
    history.write(name, series.values, {length(series.values.size())});
    history.write(name + "_step", series.steps, {length(series.steps.size())});
  }
}

namespace {

void check_column(const std::string& column, size_t size, size_t rows) {
  PTQAT_CHECK(size == rows, DataError, "layers/{}: {} rows, expected {} (as layers/name)", column,
              size, rows);
}

std::vector<LayerRow> read_layers(const h5::Group& group) {
  const std::vector<std::string> names = group.read_strings("name");
  const std::vector<std::string> kinds = group.read_strings("kind");
  const std::vector<int64_t> forward_index = group.read_int64s("forward_index");
  const std::vector<int64_t> parameters = group.read_int64s("parameters");
  const std::vector<int64_t> weight_bits = group.read_int64s("weight_bits");
  const std::vector<int64_t> input_bits = group.read_int64s("input_bits");
  const std::vector<int64_t> keep_float = group.read_int64s("keep_float");
  const std::vector<double> discrepancy = group.read_doubles("discrepancy");
  const std::vector<int64_t> frozen = group.read_int64s("frozen");
  const size_t rows = names.size();
  // Columns that records written before them lack: every layer ranked unless kept in float.
  std::vector<int64_t> ranked;
  if (group.exists("ranked")) {
    ranked = group.read_int64s("ranked");
    check_column("ranked", ranked.size(), rows);
  }
  std::map<std::string, std::vector<double>> measures;
  for (const std::string& column : group.children()) {
    if (column.rfind(kMeasurePrefix, 0) != 0) continue;
    std::vector<double> values = group.read_doubles(column);
    check_column(column, values.size(), rows);
    measures[column.substr(kMeasurePrefix.size())] = std::move(values);
  }
  check_column("kind", kinds.size(), rows);
  check_column("forward_index", forward_index.size(), rows);
  check_column("parameters", parameters.size(), rows);
  check_column("weight_bits", weight_bits.size(), rows);
  check_column("input_bits", input_bits.size(), rows);
  check_column("keep_float", keep_float.size(), rows);
  check_column("discrepancy", discrepancy.size(), rows);
  check_column("frozen", frozen.size(), rows);
  std::vector<LayerRow> layers(rows);
  for (size_t i = 0; i < rows; ++i) {
    LayerRow& row = layers[i];
    row.name = names[i];
    row.kind = kinds[i];
    row.forward_index = forward_index[i];
    row.parameters = parameters[i];
    row.weight_bits = weight_bits[i];
    row.input_bits = input_bits[i];
    row.keep_float = keep_float[i] != 0;
    row.ranked = ranked.empty() ? !row.keep_float : ranked[i] != 0;
    row.discrepancy = discrepancy[i];
    for (const auto& [name, values] : measures) row.measures[name] = values[i];
    row.frozen = frozen[i] != 0;
  }
  return layers;
}

RunRecord read_run_group(const h5::Group& run) {
  RunRecord record;
  record.key = run.attribute("key");
  record.parent_key = run.attribute("parent_key");
  if (run.has_attribute("content_hash")) {  // absent in records written before it
    record.content_hash = run.attribute("content_hash");
    record.parent_content_hash = run.attribute("parent_content_hash");
  }
  record.stage = run.attribute("stage");
  record.task = run.attribute("task");
  record.method = run.attribute("method");
  record.ptqat_version = run.attribute("ptqat_version");
  record.git_revision = run.attribute("git_revision");
  record.started_at = run.attribute("started_at");
  record.finished_at = run.attribute("finished_at");
  record.config = run.read_string("config");
  record.labels = read_labels(run);

  const h5::Group costs = run.open_group("costs");
  record.wall_time_s = costs.read_double("wall_time_s");
  // Absent in records written before it.
  if (costs.exists("train_time_s")) record.train_time_s = costs.read_double("train_time_s");
  if (costs.exists("attempts")) record.attempts = costs.read_int64("attempts");
  record.peak_host_memory_bytes = costs.read_int64("peak_host_memory_bytes");
  record.peak_device_memory_bytes = costs.read_int64("peak_device_memory_bytes");
  record.trainable_parameters = costs.read_int64("trainable_parameters");

  const h5::Group metrics = run.open_group("metrics");
  for (const std::string& name : metrics.children()) {
    record.metrics[name] = metrics.read_double(name);
  }

  const h5::Group per_class = run.open_group("per_class");
  record.class_names = per_class.read_strings("classes");
  for (const std::string& name : per_class.children()) {
    if (name == "classes") continue;
    std::vector<double> values = per_class.read_doubles(name);
    PTQAT_CHECK(values.size() == record.class_names.size(), DataError,
                "per_class/{}: {} values for {} classes", name, values.size(),
                record.class_names.size());
    record.per_class[name] = std::move(values);
  }

  record.layers = read_layers(run.open_group("layers"));
  if (run.exists("provenance")) {  // absent in records written before it
    const h5::Group provenance = run.open_group("provenance");
    for (const std::string& name : provenance.children()) {
      record.provenance[name] = provenance.read_string(name);
    }
  }
  if (run.exists("frozen_overlap")) {  // absent in records written before it
    const h5::Group overlap = run.open_group("frozen_overlap");
    for (const std::string& name : overlap.children()) {
      record.frozen_overlap[name] = overlap.read_double(name);
    }
  }

  const h5::Group history = run.open_group("history");
  for (const std::string& name : history.children()) {
    if (ends_with(name, "_step")) {
      const std::string values = name.substr(0, name.size() - 5);
      PTQAT_CHECK(history.exists(values), DataError, "history/{}: no history/{} beside it", name,
                  values);
      continue;
    }
    MetricHistory series;
    series.values = history.read_doubles(name);
    PTQAT_CHECK(history.exists(name + "_step"), DataError, "history/{}: no history/{}_step", name,
                name);
    series.steps = history.read_int64s(name + "_step");
    PTQAT_CHECK(series.steps.size() == series.values.size(), DataError,
                "history/{}: {} values but {} steps", name, series.values.size(),
                series.steps.size());
    record.history[name] = std::move(series);
  }
  return record;
}

}  // namespace

namespace {

/// Reads the run `name` of `group_name` in `file`, a version of run `key`, every error naming
/// the file and the run in one line.
RunRecord read_run_in(const h5::File& file, const std::string& path, const std::string& group_name,
                      const std::string& name, const std::string& key) {
  const std::string where = fmt::format("{}: run '{}'", path, name);
  // Messages from core::h5 start with the file's path already: keep one copy of it.
  const auto context = [&](const Error& error) {
    std::string message = error.what();
    if (message.rfind(path + ": ", 0) == 0) message.erase(0, path.size() + 2);
    return fmt::format("{}: {}", where, message);
  };
  try {
    const h5::Group group = file.open_group(group_name);
    PTQAT_CHECK(group.exists(name), DataError, "no such run in the file");
    RunRecord record = read_run_group(group.open_group(name));
    PTQAT_CHECK(record.key == key, DataError, "its key attribute is '{}'", record.key);
    return record;
  } catch (const IoError& error) {
    throw IoError(context(error));
  } catch (const DataError& error) {
    throw DataError(context(error));
  }
}

}  // namespace

RunRecord read_run(const h5::File& file, const std::string& path, const std::string& key) {
  return read_run_in(file, path, "runs", key, key);
}

RunRecord read_superseded(const h5::File& file, const std::string& path, const std::string& name) {
  return read_run_in(file, path, "superseded", name, name.substr(0, name.rfind('.')));
}

}  // namespace ptqat::results
