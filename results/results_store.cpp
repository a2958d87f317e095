#include "results/results_store.h"

#include <fcntl.h>
#include <fmt/format.h>
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
#include <set>

#include "core/durable_file.h"
#include "core/error.h"
#include "core/hdf5.h"
#include "core/version.h"
#include "results/run_group.h"

namespace ptqat::results {

namespace fs = std::filesystem;
namespace h5 = core::h5;

namespace {

/// The root attribute "format" of every record and results file (docs/results.md).
constexpr const char* kFormat = "ptqat-results/1";
constexpr const char* kRecordSuffix = ".h5";
constexpr const char* kRecordTemporaryMarker = ".h5.tmp.";
/// Note [record temporaries]: untouched this long, a temporary has no live writer.
constexpr auto kStaleTemporaryAge = std::chrono::hours(1);

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

/// What a record was made from and what it made (RunRecord's fields of the same names).
struct Lineage {
  std::string parent_key;
  std::string content_hash;
  std::string parent_content_hash;
};

/// The lineage attributes of run `key` of the record file at `path`, without reading the rest:
/// a sweep asks ResultsStore::is_current() for every stage of its plan.
Lineage read_lineage(const std::string& path, const std::string& key) {
  const h5::File file = open_results_file(path);
  const h5::Group run = file.open_group("runs").open_group(key);
  const auto value = [&](const char* name) {
    return run.has_attribute(name) ? run.attribute(name) : std::string();
  };
  return {value("parent_key"), value("content_hash"), value("parent_content_hash")};
}

/// Builds a new HDF5 file in memory with `fill`, writes its bytes to a temporary beside `path`
/// and `publish`es it (core::publish_file by default); returns what `publish` returns. In
/// memory first (Note [h5 in memory]): a full disk is then an IoError of ptqat's own write,
/// never a crash inside HDF5, and no HDF5 file is left half-written.
template <class Fill, class Publish>
bool write_file_atomically(const std::string& path, Fill fill, Publish publish) {
  std::string image;
  {
    const h5::File file = h5::File::create_in_memory(path);
    file.set_attribute_utf8("format", kFormat);
    fill(file);
    image = file.image();
  }
  const std::string temporary = temporary_for(path);
  core::write_new_file(temporary, image, path);
  return publish(temporary, path);  // removes the temporary when it fails
}

template <class Fill>
void write_file_atomically(const std::string& path, Fill fill) {
  write_file_atomically(path, fill, [](const std::string& temporary, const std::string& final) {
    core::publish_file(temporary, final);
    return true;
  });
}

/// "<key>.<n>.h5" of a superseded version: n, or 0 when `name` is not one of `key`.
int64_t version_number(const std::string& name, const std::string& key) {
  const std::string prefix = key + ".";
  if (name.rfind(prefix, 0) != 0 || !ends_with(name, kRecordSuffix)) return 0;
  const std::string number = name.substr(prefix.size(), name.size() - prefix.size() - 3);
  if (number.empty() || number.size() > 9 ||
      number.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return std::stoll(number);
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
    : dir_(std::move(dir)),
      records_dir_((fs::path(dir_) / "records").string()),
      superseded_dir_((fs::path(dir_) / "superseded").string()) {
  std::error_code error;
  fs::create_directories(records_dir_, error);
  PTQAT_CHECK(!error, IoError, "{}: cannot create the records folder: {}", records_dir_,
              error.message());
  // Found now, not after the first stage's work.
  PTQAT_CHECK(::access(records_dir_.c_str(), W_OK) == 0, IoError,
              "{}: the records folder is not writable: {}", records_dir_, std::strerror(errno));
  remove_stale_temporaries(records_dir_, "");
}

std::string ResultsStore::record_path(const std::string& key) const {
  check_key(key);
  return (fs::path(records_dir_) / (key + kRecordSuffix)).string();
}

void ResultsStore::write(const RunRecord& record, Recording how) const {
  check_record(record);
  const std::string path = record_path(record.key);
  const auto fill = [&](const h5::File& file) {
    write_run(file.create_group("runs").create_group(record.key), record);
  };
  const bool published = write_file_atomically(
      path, fill, [&](const std::string& temporary, const std::string& final) {
        if (how == Recording::kNew) return core::publish_file_if_absent(temporary, final);
        try {
          keep_as_superseded(record.key);
        } catch (...) {
          std::remove(temporary.c_str());
          throw;
        }
        core::publish_file(temporary, final);
        return true;
      });
  PTQAT_CHECK(published, RecordExists,
              "{}: stage {} is recorded already; nothing was written (--force records a new "
              "version and keeps this one as superseded)",
              path, record.key);
}

void ResultsStore::keep_as_superseded(const std::string& key) const {
  const std::string current = record_path(key);
  std::error_code error;
  if (!fs::is_regular_file(current, error)) return;
  fs::create_directories(superseded_dir_, error);
  PTQAT_CHECK(!error, IoError, "{}: cannot create the folder: {}", superseded_dir_,
              error.message());
  // A hard link, not a copy: the version is the very file readers saw, and link(2) fails
  // instead of replacing when a concurrent writer took the same number.
  for (int64_t n = static_cast<int64_t>(superseded(key).size()) + 1;; ++n) {
    const std::string version =
        (fs::path(superseded_dir_) / fmt::format("{}.{}.h5", key, n)).string();
    if (::link(current.c_str(), version.c_str()) == 0) return;
    PTQAT_CHECK(errno == EEXIST, IoError, "{}: cannot keep {} as a superseded version: {}", version,
                current, std::strerror(errno));
  }
}

std::vector<std::string> ResultsStore::superseded(const std::string& key) const {
  check_key(key);
  std::vector<std::pair<int64_t, std::string>> versions;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(superseded_dir_, error)) {
    const int64_t n = version_number(entry.path().filename().string(), key);
    if (n > 0) versions.emplace_back(n, entry.path().string());
  }
  std::sort(versions.begin(), versions.end());
  std::vector<std::string> paths;
  for (const auto& version : versions) paths.push_back(version.second);
  return paths;
}

bool ResultsStore::contains(const std::string& key) const {
  std::error_code error;
  return fs::is_regular_file(record_path(key), error);
}

bool ResultsStore::is_current(const std::string& key) const {
  // Up the chain of parents, each record read once.
  if (!contains(key)) return false;
  Lineage child = read_lineage(record_path(key), key);
  while (!child.parent_key.empty()) {
    if (!contains(child.parent_key)) return false;
    const Lineage parent = read_lineage(record_path(child.parent_key), child.parent_key);
    if (parent.content_hash != child.parent_content_hash) return false;
    child = parent;
  }
  return true;
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
    if (name.empty() || name[0] == '.') continue;  // hidden, e.g. NFS's .nfs<hex>
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
/// into one results file at once (groups of a sweep, two sweeps) would otherwise race: the one
/// that listed the records first could rename its view over the other's newer one.
class FileLock {
 public:
  explicit FileLock(const std::string& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
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

void ResultsStore::check_view(const std::string& results_path) const {
  std::error_code error;
  if (!fs::exists(results_path, error)) return;
  // Every run the view holds, current or superseded, must be one this store records: then the
  // rebuilt view drops nothing. A run is known by its key and its start and finish times.
  const auto identity = [](const h5::Group& run) {
    return run.attribute("key") + " " + run.attribute("started_at") + " " +
           run.attribute("finished_at");
  };
  std::set<std::string> recorded;
  for (const std::string& key : keys()) {
    std::vector<std::string> versions = superseded(key);
    versions.push_back(record_path(key));
    for (const std::string& path : versions) {
      recorded.insert(identity(open_results_file(path).open_group("runs").open_group(key)));
    }
  }
  const h5::File view = open_results_file(results_path);
  const std::string owner = view.has_attribute("store") ? view.attribute("store") : "";
  for (const char* group_name : {"runs", "superseded"}) {
    if (!view.exists(group_name)) continue;
    const h5::Group group = view.open_group(group_name);
    for (const std::string& name : group.children()) {
      PTQAT_CHECK(recorded.count(identity(group.open_group(name))) != 0, ConfigError,
                  "{}: holds run {} that the store {} does not record ({}); rebuilding it would "
                  "drop that run: give this run another results file (--out, output.results), "
                  "or join the two with `ptqat results merge`",
                  results_path, name, canonical_dir(),
                  owner.empty() ? "a merged file?" : "the view of the store " + owner);
    }
  }
}

std::string ResultsStore::canonical_dir() const {
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(dir_), error);
  return (error ? fs::absolute(dir_) : canonical).string();
}

void ResultsStore::consolidate(const std::string& results_path) const {
  fs::path folder = fs::path(results_path).parent_path();
  if (folder.empty()) folder = ".";
  fs::create_directories(folder);
  // Hidden beside the view: it locks out every other writer of this view, of this store or of
  // another one (whose view check_view() then refuses to replace).
  const std::string name = fs::path(results_path).filename().string();
  const FileLock lock((folder / ("." + name + ".lock")).string());
  check_view(results_path);
  remove_stale_temporaries(folder.string(), name);
  const std::vector<std::string> all = keys();
  write_file_atomically(results_path, [&](const h5::File& file) {
    file.set_attribute_utf8("ptqat_version", ptqat::version());
    file.set_attribute_utf8("consolidated_at", utc_timestamp());
    file.set_attribute_utf8("store", canonical_dir());
    const h5::Group runs = file.create_group("runs");
    const h5::Group superseded_runs = file.create_group("superseded");
    for (const std::string& key : all) {
      const std::string path = record_path(key);
      const h5::File record = open_results_file(path);
      read_run(record, path, key);  // validates every field: a corrupt record stops here
      record.open_group("runs").copy(key, runs, key);
      for (const std::string& version_path : superseded(key)) {
        const h5::File version = open_results_file(version_path);
        read_run(version, version_path, key);
        const std::string name = fs::path(version_path).stem().string();  // <key>.<n>
        version.open_group("runs").copy(key, superseded_runs, name);
      }
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

namespace {

/// One version of a run in one of merge's inputs: /runs/<key> or /superseded/<key>.<n>.
struct RunVersion {
  size_t input = 0;
  std::string group;  ///< "runs" or "superseded"
  std::string name;   ///< its link name in that group
  std::string started_at;
  std::string finished_at;
};

}  // namespace

MergeSummary merge_results(const std::vector<std::string>& inputs, const std::string& output) {
  for (const std::string& input : inputs) {
    std::error_code same_error;
    PTQAT_CHECK(!fs::equivalent(input, output, same_error), ConfigError,
                "results merge: the output {} is one of the inputs; write a new file", output);
  }
  // Every version of every key, each validated by reading it in full first. The same run seen
  // in two inputs (a view and a merge of it) is one version.
  std::map<std::string, std::vector<RunVersion>> versions;
  MergeSummary summary;
  const auto add = [&](const std::string& key, RunVersion version) {
    std::vector<RunVersion>& known = versions[key];
    for (const RunVersion& other : known) {
      if (other.started_at == version.started_at && other.finished_at == version.finished_at) {
        return;
      }
    }
    known.push_back(std::move(version));
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (const RunRecord& run : read_results(inputs[i])) {
      ++summary.runs_read;
      if (versions.count(run.key) != 0) ++summary.duplicates;
      add(run.key, {i, "runs", run.key, run.started_at, run.finished_at});
    }
    const h5::File file = open_results_file(inputs[i]);
    if (!file.exists("superseded")) continue;
    for (const std::string& name : file.open_group("superseded").children()) {
      const RunRecord run = read_superseded(file, inputs[i], name);
      add(run.key, {i, "superseded", name, run.started_at, run.finished_at});
    }
  }
  // The version that finished last is the run (ISO 8601 UTC strings compare in time order);
  // the others are kept as its superseded versions, oldest first.
  for (auto& [key, found] : versions) {
    std::stable_sort(found.begin(), found.end(), [](const RunVersion& a, const RunVersion& b) {
      return a.finished_at < b.finished_at;
    });
    summary.superseded_written += found.size() - 1;
  }
  const fs::path folder = fs::path(output).parent_path();
  if (!folder.empty()) fs::create_directories(folder);
  write_file_atomically(output, [&](const h5::File& file) {
    file.set_attribute_utf8("ptqat_version", ptqat::version());
    file.set_attribute_utf8("consolidated_at", utc_timestamp());
    const h5::Group runs = file.create_group("runs");
    const h5::Group superseded = file.create_group("superseded");
    std::vector<h5::File> opened;
    for (const std::string& input : inputs) opened.push_back(open_results_file(input));
    for (const auto& [key, found] : versions) {
      for (size_t v = 0; v < found.size(); ++v) {
        const RunVersion& version = found[v];
        const h5::Group from = opened[version.input].open_group(version.group);
        if (v + 1 == found.size()) {
          from.copy(version.name, runs, key);
        } else {
          from.copy(version.name, superseded, fmt::format("{}.{}", key, v + 1));
        }
      }
    }
  });
  summary.runs_written = versions.size();
  return summary;
}

}  // namespace ptqat::results
