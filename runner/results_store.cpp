#include "runner/results_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>

#include "core/durable_file.h"
#include "core/error.h"
#include "core/hdf5.h"
#include "core/version.h"
#include "quant/quantizable_layer.h"

namespace ptqat::runner {

namespace fs = std::filesystem;
namespace h5 = core::h5;

namespace {

/// The root attribute "format" of every record and results file (docs/results.md).
constexpr const char* kFormat = "ptqat-results/1";
constexpr const char* kRecordSuffix = ".h5";
constexpr const char* kRecordTemporaryMarker = ".h5.tmp.";
/// Note [record temporaries]: untouched this long, a temporary has no live writer.
constexpr auto kStaleTemporaryAge = std::chrono::hours(1);

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

const std::string& host_name() {
  static const std::string name = [] {
    std::array<char, 256> buffer{};
    if (::gethostname(buffer.data(), buffer.size() - 1) != 0 || buffer[0] == '\0') {
      return std::string("unknown-host");
    }
    std::string host(buffer.data());
    for (char& c : host) {
      if (c == '/') c = '_';
    }
    return host;
  }();
  return name;
}

/// Note [record temporaries]: like core::temporary_path_for, plus the host, so that a crashed
/// writer's file can be told from a live one on another node sharing the folder.
std::string temporary_for(const std::string& path) {
  return fmt::format("{}.tmp.{}.{}", path, host_name(), ::getpid());
}

/// `tail` is what follows ".tmp." in a temporary's name: "<host>.<pid>" or "<pid>"
/// (core::temporary_path_for).
bool is_stale_temporary(const fs::path& path, const std::string& tail) {
  std::error_code error;
  const fs::file_time_type modified = fs::last_write_time(path, error);
  if (error) return false;  // gone already
  if (fs::file_time_type::clock::now() - modified > kStaleTemporaryAge) return true;
  const size_t dot = tail.rfind('.');
  const std::string host = dot == std::string::npos ? "" : tail.substr(0, dot);
  const std::string pid_text = dot == std::string::npos ? tail : tail.substr(dot + 1);
  if (!host.empty() && host != host_name()) return false;
  if (pid_text.empty() || pid_text.size() > 9 ||
      pid_text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;  // EPERM: alive, another user's
}

/// Removes the stale temporaries in `folder` whose names start with "<prefix>.tmp."
/// (`prefix` empty: any "<key>.h5.tmp."). Best effort: a folder or file that cannot be removed
/// is left; readers ignore temporaries anyway.
void remove_stale_temporaries(const std::string& folder, const std::string& prefix) {
  std::error_code error;
  fs::directory_iterator entries(folder, error);
  if (error) return;
  for (const fs::directory_entry& entry : entries) {
    const std::string name = entry.path().filename().string();
    size_t tail_at = std::string::npos;
    if (prefix.empty()) {
      const size_t marker = name.find(kRecordTemporaryMarker);
      if (marker != std::string::npos)
        tail_at = marker + std::char_traits<char>::length(kRecordTemporaryMarker);
    } else if (name.rfind(prefix + ".tmp.", 0) == 0) {
      tail_at = prefix.size() + 5;
    }
    if (tail_at == std::string::npos) continue;
    if (is_stale_temporary(entry.path(), name.substr(tail_at))) fs::remove(entry.path(), error);
  }
}

/// Names that become HDF5 link names (Note in results_store.h on RunRecord).
void check_link_name(const std::string& what, const std::string& name, const std::string& key) {
  PTQAT_ASSERT(!name.empty() && name != "." && name.find('/') == std::string::npos,
               "record {}: {} name '{}' cannot name an HDF5 dataset", key, what, name);
}

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

hsize_t length(size_t size) { return static_cast<hsize_t>(size); }

void write_layers(const h5::Group& group, const quant::DiscrepancyTable& layers) {
  std::vector<std::string> names, kinds;
  std::vector<int64_t> forward_index, parameters, weight_bits, input_bits, keep_float, frozen;
  std::vector<double> discrepancy;
  for (const quant::LayerDiscrepancy& row : layers) {
    names.push_back(row.name);
    kinds.push_back(quant::layer_kind_name(row.kind));
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
  group.write("discrepancy", discrepancy, dims);
  group.write("frozen", frozen, dims, H5T_STD_I8LE);
}

void write_run(const h5::Group& run, const RunRecord& record) {
  run.set_attribute_utf8("key", record.key);
  run.set_attribute_utf8("parent_key", record.parent_key);
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

  const h5::Group costs = run.create_group("costs");
  costs.write_scalar("wall_time_s", record.wall_time_s);
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

  const h5::Group history = run.create_group("history");
  for (const auto& [name, series] : record.history) {
    history.write(name, series.values, {length(series.values.size())});
    history.write(name + "_step", series.steps, {length(series.steps.size())});
  }
}

quant::LayerKind layer_kind_from_name(const std::string& name) {
  for (const quant::LayerKind kind :
       {quant::LayerKind::kConv2d, quant::LayerKind::kConvBn2d, quant::LayerKind::kConvTranspose2d,
        quant::LayerKind::kLinear}) {
    if (name == quant::layer_kind_name(kind)) return kind;
  }
  PTQAT_FAIL(DataError, "layers/kind: unknown layer kind '{}'", name);
}

void check_column(const std::string& column, size_t size, size_t rows) {
  PTQAT_CHECK(size == rows, DataError, "layers/{}: {} rows, expected {} (as layers/name)", column,
              size, rows);
}

quant::DiscrepancyTable read_layers(const h5::Group& group) {
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
  check_column("kind", kinds.size(), rows);
  check_column("forward_index", forward_index.size(), rows);
  check_column("parameters", parameters.size(), rows);
  check_column("weight_bits", weight_bits.size(), rows);
  check_column("input_bits", input_bits.size(), rows);
  check_column("keep_float", keep_float.size(), rows);
  check_column("discrepancy", discrepancy.size(), rows);
  check_column("frozen", frozen.size(), rows);
  quant::DiscrepancyTable layers(rows);
  for (size_t i = 0; i < rows; ++i) {
    quant::LayerDiscrepancy& row = layers[i];
    row.name = names[i];
    row.kind = layer_kind_from_name(kinds[i]);
    row.forward_index = forward_index[i];
    row.parameters = parameters[i];
    row.weight_bits = weight_bits[i];
    row.input_bits = input_bits[i];
    row.keep_float = keep_float[i] != 0;
    row.discrepancy = discrepancy[i];
    row.frozen = frozen[i] != 0;
  }
  return layers;
}

RunRecord read_run_group(const h5::Group& run) {
  RunRecord record;
  record.key = run.attribute("key");
  record.parent_key = run.attribute("parent_key");
  record.stage = run.attribute("stage");
  record.task = run.attribute("task");
  record.method = run.attribute("method");
  record.ptqat_version = run.attribute("ptqat_version");
  record.git_revision = run.attribute("git_revision");
  record.started_at = run.attribute("started_at");
  record.finished_at = run.attribute("finished_at");
  record.config = run.read_string("config");

  const h5::Group costs = run.open_group("costs");
  record.wall_time_s = costs.read_double("wall_time_s");
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

/// Reads /runs/<key> of `file`, every error naming the file and the run in one line.
RunRecord read_run(const h5::File& file, const std::string& path, const std::string& key) {
  const std::string where = fmt::format("{}: run '{}'", path, key);
  // Messages from core::h5 start with the file's path already: keep one copy of it.
  const auto context = [&](const Error& error) {
    std::string message = error.what();
    if (message.rfind(path + ": ", 0) == 0) message.erase(0, path.size() + 2);
    return fmt::format("{}: {}", where, message);
  };
  try {
    const h5::Group runs = file.open_group("runs");
    PTQAT_CHECK(runs.exists(key), DataError, "no such run in the file");
    RunRecord record = read_run_group(runs.open_group(key));
    PTQAT_CHECK(record.key == key, DataError, "its key attribute is '{}'", record.key);
    return record;
  } catch (const IoError& error) {
    throw IoError(context(error));
  } catch (const DataError& error) {
    throw DataError(context(error));
  }
}

/// Opens a record or results file read-only and checks that it is one.
h5::File open_results_file(const std::string& path) {
  std::error_code error;
  PTQAT_CHECK(fs::is_regular_file(path, error), IoError, "{}: no such file", path);
  h5::File file = [&] {
    try {
      return h5::File::open_read_only(path);
    } catch (const IoError&) {
      PTQAT_FAIL(IoError, "{}: cannot open as an HDF5 file (unreadable, truncated or corrupt)",
                 path);
    }
  }();
  const std::string format = file.has_attribute("format") ? file.attribute("format") : "";
  PTQAT_CHECK(format == kFormat, DataError,
              "{}: not a ptqat results file (format '{}', expected '{}')", path, format, kFormat);
  return file;
}

/// Writes a new HDF5 file at a temporary beside `path` with `fill`, then publishes it.
template <class Fill>
void write_file_atomically(const std::string& path, Fill fill) {
  const std::string temporary = temporary_for(path);
  try {
    {
      const h5::File file = h5::File::create(temporary);
      file.set_attribute_utf8("format", kFormat);
      fill(file);
      file.flush();
    }  // closed before publishing: the rename must see every byte HDF5 wrote
    core::publish_file(temporary, path);
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
}

}  // namespace

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text.data();
}

ResultsStore::ResultsStore(std::string dir)
    : dir_(std::move(dir)), records_dir_((fs::path(dir_) / "records").string()) {
  std::error_code error;
  fs::create_directories(records_dir_, error);
  PTQAT_CHECK(!error, IoError, "{}: cannot create the records folder: {}", records_dir_,
              error.message());
  remove_stale_temporaries(records_dir_, "");
}

std::string ResultsStore::record_path(const std::string& key) const {
  check_key(key);
  return (fs::path(records_dir_) / (key + kRecordSuffix)).string();
}

void ResultsStore::write(const RunRecord& record) const {
  check_record(record);
  write_file_atomically(record_path(record.key), [&](const h5::File& file) {
    write_run(file.create_group("runs").create_group(record.key), record);
  });
}

bool ResultsStore::contains(const std::string& key) const {
  std::error_code error;
  return fs::is_regular_file(record_path(key), error);
}

RunRecord ResultsStore::read(const std::string& key) const {
  const std::string path = record_path(key);
  std::error_code error;
  PTQAT_CHECK(fs::is_regular_file(path, error), IoError, "{}: no record of stage key '{}'", path,
              key);
  return read_run(open_results_file(path), path, key);
}

std::vector<std::string> ResultsStore::keys() const {
  std::vector<std::string> found;
  std::error_code error;
  fs::directory_iterator entries(records_dir_, error);
  PTQAT_CHECK(!error, IoError, "{}: cannot list the records: {}", records_dir_, error.message());
  for (const fs::directory_entry& entry : entries) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // hidden, e.g. NFS's .nfsXXXX
    if (name.find(kRecordTemporaryMarker) != std::string::npos) continue;
    const std::string key =
        ends_with(name, kRecordSuffix) ? name.substr(0, name.size() - 3) : std::string();
    PTQAT_CHECK(is_valid_key(key) && entry.is_regular_file(error), DataError,
                "{}: not a ptqat record (records/ holds only <stage key>.h5 files)",
                entry.path().string());
    found.push_back(key);
  }
  std::sort(found.begin(), found.end());
  return found;
}

namespace {

/// An exclusive flock on a lock file, held for the object's life. Two writers that consolidate
/// one store at once (groups of a sweep) would otherwise race: the one that listed the records
/// first could rename its view over the other's newer one.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    PTQAT_CHECK(fd_ >= 0, IoError, "{}: cannot open lock file: {}", path, std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      PTQAT_CHECK(errno == EINTR, IoError, "{}: cannot lock: {}", path, std::strerror(errno));
    }
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

void ResultsStore::consolidate(const std::string& results_path) const {
  fs::path folder = fs::path(results_path).parent_path();
  if (folder.empty()) folder = ".";
  fs::create_directories(folder);
  // Hidden in records/: keys() ignores it, and it locks out the store's other consolidators.
  const FileLock lock((fs::path(records_dir_) / ".consolidate.lock").string());
  remove_stale_temporaries(folder.string(), fs::path(results_path).filename().string());
  const std::vector<std::string> all = keys();
  write_file_atomically(results_path, [&](const h5::File& file) {
    file.set_attribute_utf8("ptqat_version", ptqat::version());
    file.set_attribute_utf8("consolidated_at", utc_timestamp());
    const h5::Group runs = file.create_group("runs");
    for (const std::string& key : all) {
      const std::string path = record_path(key);
      const h5::File record = open_results_file(path);
      read_run(record, path, key);  // validates every field: a corrupt record stops here
      record.open_group("runs").copy(key, runs, key);
    }
  });
}

std::vector<RunRecord> read_results(const std::string& results_h5) {
  const h5::File file = open_results_file(results_h5);
  std::vector<RunRecord> records;
  std::vector<std::string> keys;
  try {
    keys = file.open_group("runs").children();
  } catch (const IoError&) {
    PTQAT_FAIL(DataError, "{}: no readable /runs group", results_h5);
  }
  for (const std::string& key : keys) records.push_back(read_run(file, results_h5, key));
  return records;
}

MergeSummary merge_results(const std::vector<std::string>& inputs, const std::string& output) {
  // Which file each key comes from: the one whose run finished last (ISO 8601 UTC strings
  // compare in time order), every run validated by reading it in full first.
  std::map<std::string, std::pair<size_t, std::string>> source;  // key -> (input, finished_at)
  MergeSummary summary;
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (const RunRecord& run : read_results(inputs[i])) {
      ++summary.runs_read;
      const auto [at, inserted] = source.try_emplace(run.key, i, run.finished_at);
      if (inserted) continue;
      ++summary.duplicates;
      if (run.finished_at > at->second.second) at->second = {i, run.finished_at};
    }
  }
  for (const std::string& input : inputs) {
    std::error_code same_error;
    PTQAT_CHECK(!fs::equivalent(input, output, same_error), ConfigError,
                "results merge: the output {} is one of the inputs; write a new file", output);
  }
  const fs::path folder = fs::path(output).parent_path();
  if (!folder.empty()) fs::create_directories(folder);
  write_file_atomically(output, [&](const h5::File& file) {
    file.set_attribute_utf8("ptqat_version", ptqat::version());
    file.set_attribute_utf8("consolidated_at", utc_timestamp());
    const h5::Group runs = file.create_group("runs");
    for (size_t i = 0; i < inputs.size(); ++i) {
      const h5::File input = open_results_file(inputs[i]);
      const h5::Group input_runs = input.open_group("runs");
      for (const auto& [key, from] : source) {
        if (from.first == i) input_runs.copy(key, runs, key);
      }
    }
  });
  summary.runs_written = source.size();
  return summary;
}

}  // namespace ptqat::runner
