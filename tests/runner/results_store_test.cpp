#include "runner/results_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/hdf5.h"
#include "core/version.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {
namespace {

namespace fs = std::filesystem;

const std::string kFloatKey = "0123456789abcdef0123456789abcdef";
const std::string kCalibrateKey = "11111111111111111111111111111111";
const std::string kEvaluateKey = "fedcba9876543210fedcba9876543210";

quant::LayerDiscrepancy layer(std::string name, quant::LayerKind kind, int64_t index,
                              int64_t parameters, bool keep_float, double discrepancy,
                              bool frozen) {
  quant::LayerDiscrepancy row;
  row.name = std::move(name);
  row.kind = kind;
  row.forward_index = index;
  row.parameters = parameters;
  row.weight_bits = keep_float ? 32 : 4;
  row.input_bits = keep_float ? 32 : 8;
  row.keep_float = keep_float;
  row.discrepancy = discrepancy;
  row.frozen = frozen;
  return row;
}

/// A record with every field set to a value that differs from its default.
RunRecord evaluate_record() {
  RunRecord record;
  record.key = kEvaluateKey;
  record.parent_key = kCalibrateKey;
  record.stage = "evaluate";
  record.task = "detection";
  record.method = "ptqat";
  record.config = "[quant]\nfreeze_ratio = 0.5\nweight_bits = 4\n[model]\nname = \"pillar–net\"\n";
  record.ptqat_version = "9.8.7";
  record.git_revision = "abc1234-dirty";
  record.started_at = "2025-03-01T12:00:00Z";
  record.finished_at = "2025-03-01T12:34:56Z";
  record.wall_time_s = 2096.5;
  record.peak_host_memory_bytes = 12884901888;  // 12 GiB: beyond 32 bits
  record.peak_device_memory_bytes = 7;
  record.trainable_parameters = 1234567;
  record.metrics = {{"nds", 0.5125}, {"map", 0.375}, {"loss", -1.5}};
  record.class_names = {"car", "pedestrian"};
  record.per_class = {{"ap", {0.5, 0.25}}, {"ate", {0.125, 1.0}}};
  record.layers = {
      layer("backbone.conv1", quant::LayerKind::kConvBn2d, 0, 1728, false, 0.0125, true),
      layer("head.cls", quant::LayerKind::kLinear, 1, 650, true, 2.5e-05, false),
      layer("neck.up", quant::LayerKind::kConvTranspose2d, 2, 4096, false, 0, false),
  };
  record.history = {{"loss", {{100, 200, 300}, {2.0, 1.0, 0.5}}},
                    {"val_nds", {{1, 2}, {0.25, 0.5}}}};
  return record;
}

/// A float-training record with empty tables, classes and histories.
RunRecord float_record() {
  RunRecord record;
  record.key = kFloatKey;
  record.stage = "float_train";
  record.task = "detection";
  record.method = "float";
  record.config = "[train]\nepochs = 2\n";
  record.metrics = {{"loss", 0.75}};
  return record;
}

void expect_same(const RunRecord& actual, const RunRecord& expected) {
  EXPECT_EQ(actual.key, expected.key);
  EXPECT_EQ(actual.parent_key, expected.parent_key);
  EXPECT_EQ(actual.stage, expected.stage);
  EXPECT_EQ(actual.task, expected.task);
  EXPECT_EQ(actual.method, expected.method);
  EXPECT_EQ(actual.config, expected.config);
  EXPECT_EQ(actual.ptqat_version, expected.ptqat_version);
  EXPECT_EQ(actual.git_revision, expected.git_revision);
  EXPECT_EQ(actual.started_at, expected.started_at);
  EXPECT_EQ(actual.finished_at, expected.finished_at);
  EXPECT_EQ(actual.wall_time_s, expected.wall_time_s);
  EXPECT_EQ(actual.peak_host_memory_bytes, expected.peak_host_memory_bytes);
  EXPECT_EQ(actual.peak_device_memory_bytes, expected.peak_device_memory_bytes);
  EXPECT_EQ(actual.trainable_parameters, expected.trainable_parameters);
  EXPECT_EQ(actual.metrics, expected.metrics);
  EXPECT_EQ(actual.class_names, expected.class_names);
  EXPECT_EQ(actual.per_class, expected.per_class);
  ASSERT_EQ(actual.layers.size(), expected.layers.size());
  for (size_t i = 0; i < actual.layers.size(); ++i) {
    const quant::LayerDiscrepancy& a = actual.layers[i];
    const quant::LayerDiscrepancy& e = expected.layers[i];
    EXPECT_EQ(a.name, e.name) << i;
    EXPECT_EQ(a.kind, e.kind) << i;
    EXPECT_EQ(a.forward_index, e.forward_index) << i;
    EXPECT_EQ(a.parameters, e.parameters) << i;
    EXPECT_EQ(a.weight_bits, e.weight_bits) << i;
    EXPECT_EQ(a.input_bits, e.input_bits) << i;
    EXPECT_EQ(a.keep_float, e.keep_float) << i;
    EXPECT_EQ(a.discrepancy, e.discrepancy) << i;
    EXPECT_EQ(a.frozen, e.frozen) << i;
  }
  ASSERT_EQ(actual.history.size(), expected.history.size());
  for (const auto& [name, series] : expected.history) {
    ASSERT_EQ(actual.history.count(name), 1u) << name;
    EXPECT_EQ(actual.history.at(name).steps, series.steps) << name;
    EXPECT_EQ(actual.history.at(name).values, series.values) << name;
  }
}

/// Names of the files in `folder`, sorted.
std::vector<std::string> files_in(const fs::path& folder) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string this_host() {
  std::array<char, 256> buffer{};
  EXPECT_EQ(::gethostname(buffer.data(), buffer.size() - 1), 0);
  return buffer.data();
}

/// The id of a process that has exited and been reaped: no process has it (until reused).
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  EXPECT_GT(child, 0);
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  return child;
}

ino_t inode_of(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_ino;
}

TEST(ResultsStore, WritesARecordAndReadsBackEveryField) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  EXPECT_FALSE(store.contains(kEvaluateKey));
  EXPECT_EQ(store.keys(), std::vector<std::string>{});
  store.write(evaluate_record());
  store.write(float_record());
  EXPECT_TRUE(store.contains(kEvaluateKey));
  EXPECT_TRUE(store.contains(kFloatKey));
  EXPECT_FALSE(store.contains(kCalibrateKey));
  EXPECT_EQ(store.keys(), (std::vector<std::string>{kFloatKey, kEvaluateKey}));
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "records" / (kEvaluateKey + ".h5")));
  expect_same(store.read(kEvaluateKey), evaluate_record());

  // Empty tables, no classes, no history; version and revision filled in by the writer.
  RunRecord expected = float_record();
  expected.ptqat_version = ptqat::version();
  expected.git_revision = ptqat::git_revision();
  expect_same(store.read(kFloatKey), expected);
  // Only the records remain in the folder: no temporaries.
  EXPECT_EQ(files_in(dir.path() / "records"),
            (std::vector<std::string>{kFloatKey + ".h5", kEvaluateKey + ".h5"}));
}

TEST(ResultsStore, ARecordFileUsesTheDocumentedLayoutAndTypes) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(evaluate_record());
  core::h5::File file = core::h5::File::open_read_only(store.record_path(kEvaluateKey));
  EXPECT_EQ(file.attribute("format"), "ptqat-results/1");
  core::h5::Group run = file.open_group("runs").open_group(kEvaluateKey);
  EXPECT_EQ(run.attribute("stage"), "evaluate");
  EXPECT_EQ(run.children(), (std::vector<std::string>{"config", "costs", "history", "layers",
                                                      "metrics", "per_class"}));
  EXPECT_EQ(run.open_group("metrics").shape("nds"), std::vector<hsize_t>{});
  EXPECT_EQ(run.open_group("per_class").read_strings("classes"),
            (std::vector<std::string>{"car", "pedestrian"}));
  core::h5::Group layers = run.open_group("layers");
  EXPECT_EQ(layers.read_strings("kind"),
            (std::vector<std::string>{"conv_bn2d", "linear", "conv_transpose2d"}));
  EXPECT_EQ(layers.read_int64s("frozen"), (std::vector<int64_t>{1, 0, 0}));
  {
    core::h5::Handle frozen(H5Dopen2(layers.id(), "frozen", H5P_DEFAULT), H5Dclose);
    core::h5::Handle type(H5Dget_type(frozen.id()), H5Tclose);
    EXPECT_EQ(H5Tget_size(type.id()), 1u);  // int8 0/1, as docs/results.md says
  }
  core::h5::Group history = run.open_group("history");
  EXPECT_EQ(history.children(),
            (std::vector<std::string>{"loss", "loss_step", "val_nds", "val_nds_step"}));
  EXPECT_EQ(history.read_int64s("loss_step"), (std::vector<int64_t>{100, 200, 300}));
}

TEST(ResultsStore, WritingAKeyAgainReplacesItsRecordWhole) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  RunRecord first = evaluate_record();
  store.write(first);
  const ino_t before = inode_of(store.record_path(kEvaluateKey));
  RunRecord second = evaluate_record();
  second.metrics = {{"nds", 0.625}};
  second.layers.pop_back();
  second.history.erase("loss");
  store.write(second);
  EXPECT_NE(inode_of(store.record_path(kEvaluateKey)), before);  // renamed in, not rewritten
  EXPECT_EQ(store.keys(), std::vector<std::string>{kEvaluateKey});
  expect_same(store.read(kEvaluateKey), second);
  EXPECT_EQ(files_in(dir.path() / "records"), std::vector<std::string>{kEvaluateKey + ".h5"});
}

TEST(ResultsStore, AFailedWriteLeavesThePublishedRecordAndNoTemporary) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(evaluate_record());

  // Fails inside HDF5 writing, after the temporary was created.
  RunRecord nul = evaluate_record();
  nul.layers[0].name = std::string("conv\0x", 6);
  testing::expect_error<IoError>([&] { store.write(nul); }, {"name", "NUL"});
  // Rejected before any file is touched.
  RunRecord ragged = evaluate_record();
  ragged.per_class["ap"].push_back(1.0);
  EXPECT_THROW(store.write(ragged), InternalError);
  RunRecord slash = evaluate_record();
  slash.metrics["car/ap"] = 1;
  EXPECT_THROW(store.write(slash), InternalError);
  RunRecord steps = evaluate_record();
  steps.history["lr_step"] = {{1}, {0.1}};
  EXPECT_THROW(store.write(steps), InternalError);
  RunRecord bad_key = evaluate_record();
  bad_key.key = "../escape";
  testing::expect_error<ConfigError>([&] { store.write(bad_key); }, {"../escape", "stage key"});

  expect_same(store.read(kEvaluateKey), evaluate_record());
  EXPECT_EQ(files_in(dir.path() / "records"), std::vector<std::string>{kEvaluateKey + ".h5"});
}

TEST(ResultsStore, ConsolidatesEveryRecordAndReadsThemBack) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(evaluate_record());
  store.write(float_record());
  const std::string results = dir.file("results.h5");
  store.consolidate(results);

  const std::vector<RunRecord> runs = read_results(results);
  ASSERT_EQ(runs.size(), 2u);
  RunRecord expected_float = float_record();
  expected_float.ptqat_version = ptqat::version();
  expected_float.git_revision = ptqat::git_revision();
  expect_same(runs[0], expected_float);  // key order: 0123... before fedc...
  expect_same(runs[1], evaluate_record());

  // A record file is a one-run results file.
  const std::vector<RunRecord> single = read_results(store.record_path(kEvaluateKey));
  ASSERT_EQ(single.size(), 1u);
  expect_same(single[0], evaluate_record());
  EXPECT_EQ(files_in(dir.path()), (std::vector<std::string>{"records", "results.h5"}));
}

TEST(ResultsStore, ConsolidationReplacesResultsByRenameAndOldReadersKeepTheOldView) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(float_record());
  const std::string results = dir.file("results.h5");
  store.consolidate(results);
  const ino_t before = inode_of(results);

  // A reader (say, a plotting notebook) holds the old file open while the sweep goes on.
  core::h5::File reader = core::h5::File::open_read_only(results);
  store.write(evaluate_record());
  store.consolidate(results);

  EXPECT_NE(inode_of(results), before);
  EXPECT_EQ(reader.open_group("runs").children(), std::vector<std::string>{kFloatKey});
  EXPECT_EQ(read_results(results).size(), 2u);
  EXPECT_EQ(core::h5::File::open_read_only(results).open_group("runs").children(),
            (std::vector<std::string>{kFloatKey, kEvaluateKey}));
}

TEST(ResultsStore, LeftoverTemporariesAreIgnoredAndStaleOnesRemoved) {
  testing::TempDir dir;
  const fs::path records = dir.path() / "records";
  const std::string host = this_host();
  const pid_t gone = dead_pid();
  // A crashed writer on this host, in the store's and in core::temporary_path_for's naming.
  const std::string crashed = kEvaluateKey + ".h5.tmp." + host + "." + std::to_string(gone);
  const std::string crashed_plain = kCalibrateKey + ".h5.tmp." + std::to_string(gone);
  // Writers on another node: one busy now, one that died two hours ago.
  const std::string busy = kCalibrateKey + ".h5.tmp.other-node.example.4242";
  const std::string old = kFloatKey + ".h5.tmp.other-node.example.4343";
  const std::string half_written = std::string("\x89HDF\r\n\x1a\n", 8) + "torn";
  for (const std::string& name : {crashed, crashed_plain, busy, old}) {
    testing::write_text(records / name, half_written);
  }
  fs::last_write_time(records / old, fs::file_time_type::clock::now() - std::chrono::hours(2));
  // And a crashed consolidation.
  const std::string crashed_results = "results.h5.tmp." + host + "." + std::to_string(gone);
  testing::write_text(dir.path() / crashed_results, half_written);

  ResultsStore store(dir.path().string());
  EXPECT_EQ(files_in(records), std::vector<std::string>{busy});
  EXPECT_EQ(store.keys(), std::vector<std::string>{});
  EXPECT_FALSE(store.contains(kEvaluateKey));
  EXPECT_FALSE(store.contains(kCalibrateKey));

  store.write(float_record());
  store.consolidate(dir.file("results.h5"));
  EXPECT_EQ(files_in(dir.path()), (std::vector<std::string>{"records", "results.h5"}));
  EXPECT_EQ(files_in(records),
            (std::vector<std::string>{".consolidate.lock", kFloatKey + ".h5", busy}));
  const std::vector<RunRecord> runs = read_results(dir.file("results.h5"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].key, kFloatKey);
}

TEST(ResultsStore, ATruncatedRecordIsAnErrorNamingItAndKeepsTheOldResults) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(float_record());
  store.write(evaluate_record());
  const std::string results = dir.file("results.h5");
  store.consolidate(results);
  const ino_t before = inode_of(results);

  const std::string path = store.record_path(kEvaluateKey);
  fs::resize_file(path, fs::file_size(path) / 2);
  testing::expect_error<IoError>([&] { store.read(kEvaluateKey); }, {path, "truncated"});
  testing::expect_error<IoError>([&] { store.consolidate(results); }, {path});
  // The previous view stands, untouched, and no temporary is left beside it.
  EXPECT_EQ(inode_of(results), before);
  EXPECT_EQ(read_results(results).size(), 2u);
  EXPECT_EQ(files_in(dir.path()), (std::vector<std::string>{"records", "results.h5"}));
}

TEST(ResultsStore, CorruptOrForeignRecordFilesAreErrorsNamingThem) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  const fs::path records = dir.path() / "records";

  const std::string text = (records / (kFloatKey + ".h5")).string();
  testing::write_text(text, "not an HDF5 file");
  testing::expect_error<IoError>([&] { store.read(kFloatKey); }, {text, "HDF5"});
  testing::expect_error<IoError>([&] { store.consolidate(dir.file("results.h5")); }, {text});
  fs::remove(text);

  // An HDF5 file, but not a ptqat record.
  const std::string foreign = (records / (kFloatKey + ".h5")).string();
  core::h5::File::create(foreign).write_scalar("x", 1.0);
  testing::expect_error<DataError>([&] { store.read(kFloatKey); },
                                   {foreign, "not a ptqat results file"});
  fs::remove(foreign);

  // A record whose run is missing a dataset: the error names the file, the run and the dataset.
  store.write(evaluate_record());
  const std::string path = store.record_path(kEvaluateKey);
  {
    core::h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_GE(file.id(), 0);
    const std::string costs = "runs/" + kEvaluateKey + "/costs/wall_time_s";
    ASSERT_GE(H5Ldelete(file.id(), costs.c_str(), H5P_DEFAULT), 0);
  }
  testing::expect_error<IoError>([&] { store.read(kEvaluateKey); },
                                 {path, kEvaluateKey, "wall_time_s"});
  testing::expect_error<IoError>([&] { store.consolidate(dir.file("results.h5")); },
                                 {path, "wall_time_s"});
  EXPECT_FALSE(fs::exists(dir.file("results.h5")));

  // A stray file in records/ is not skipped silently.
  fs::remove(path);
  testing::write_text(records / "notes.txt", "x");
  testing::expect_error<DataError>([&] { store.keys(); }, {"notes.txt", "not a ptqat record"});
  testing::expect_error<DataError>([&] { store.consolidate(dir.file("results.h5")); },
                                   {"notes.txt"});

  testing::expect_error<IoError>([&] { store.read(kCalibrateKey); }, {kCalibrateKey, "no record"});
  testing::expect_error<ConfigError>([&] { store.contains("a/b"); }, {"a/b"});
}

TEST(ResultsStore, MergeJoinsResultsFilesAndKeepsTheLaterRunOfAKey) {
  testing::TempDir dir;
  RunRecord early = float_record();
  early.finished_at = "2025-01-01T00:00:00Z";
  early.metrics = {{"loss", 1.0}};
  RunRecord late = float_record();
  late.finished_at = "2025-02-01T00:00:00Z";
  late.metrics = {{"loss", 0.5}};
  const ResultsStore a(dir.file("a"));
  a.write(late);
  a.consolidate(dir.file("a.h5"));
  const ResultsStore b(dir.file("b"));
  b.write(early);
  b.write(evaluate_record());
  b.consolidate(dir.file("b.h5"));

  const MergeSummary summary = merge_results({dir.file("a.h5"), dir.file("b.h5")},
                                             dir.file("out/merged.h5"));
  EXPECT_EQ(summary.runs_read, 3u);
  EXPECT_EQ(summary.duplicates, 1u);
  EXPECT_EQ(summary.runs_written, 2u);
  const std::vector<RunRecord> runs = read_results(dir.file("out/merged.h5"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].metrics.at("loss"), 0.5);  // the later run, though its file came first
  expect_same(runs[1], evaluate_record());
}

TEST(ResultsStore, MergeWritesNothingWhenAnInputIsBadOrIsTheOutput) {
  testing::TempDir dir;
  const ResultsStore store(dir.path().string());
  store.write(float_record());
  store.consolidate(dir.file("a.h5"));
  testing::write_text(dir.path() / "bad.h5", "not hdf5");
  testing::expect_error<IoError>(
      [&] { merge_results({dir.file("a.h5"), dir.file("bad.h5")}, dir.file("m.h5")); },
      {dir.file("bad.h5")});
  EXPECT_FALSE(fs::exists(dir.file("m.h5")));
  testing::expect_error<ConfigError>([&] { merge_results({dir.file("a.h5")}, dir.file("a.h5")); },
                                     {"is one of the inputs"});
  EXPECT_EQ(read_results(dir.file("a.h5")).size(), 1u);
}

TEST(ResultsStore, UtcTimestampIsIso8601) {
  const std::string now = utc_timestamp();
  ASSERT_EQ(now.size(), 20u) << now;
  EXPECT_EQ(now[4], '-');
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now[19], 'Z');
}

/// The ```python block of docs/results.md.
std::string documented_python_example() {
  std::ifstream in(std::string(PTQAT_SOURCE_DIR) + "/docs/results.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::string open = "```python\n";
  const size_t begin = doc.find(open);
  EXPECT_NE(begin, std::string::npos) << "docs/results.md has no ```python block";
  if (begin == std::string::npos) return "";
  const size_t end = doc.find("```", begin + open.size());
  return doc.substr(begin + open.size(), end - begin - open.size());
}

/// A Python that can import h5py: Debian's (scripts/install_deps.sh installs python3-h5py),
/// else whatever python3 is first on PATH (it may be a pyenv one without h5py); "" if none.
std::string python_with_h5py() {
  for (const std::string python : {"/usr/bin/python3", "python3"}) {
    if (std::system((python + " -c 'import h5py' >/dev/null 2>&1").c_str()) == 0) return python;
  }
  return "";
}

TEST(ResultsStore, TheDocumentedH5pyExampleReadsAConsolidatedFile) {
  const std::string python = python_with_h5py();
  if (python.empty()) {
    GTEST_SKIP() << "python3 with h5py is not installed (Debian: apt-get install python3-h5py)";
  }
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(evaluate_record());
  RunRecord calibrate = evaluate_record();
  calibrate.key = kCalibrateKey;
  calibrate.parent_key = kFloatKey;
  calibrate.stage = "calibrate";
  calibrate.method = "ptq";
  calibrate.trainable_parameters = 0;
  calibrate.metrics.clear();
  calibrate.class_names.clear();
  calibrate.per_class.clear();
  calibrate.history.clear();
  calibrate.layers.resize(1);
  store.write(calibrate);
  store.write(float_record());
  store.consolidate(dir.file("results.h5"));

  testing::write_text(dir.path() / "read_results.py", documented_python_example());
  const std::string output = dir.file("output.txt");
  const std::string command = python + " " + dir.file("read_results.py") + " " +
                              dir.file("results.h5") + " >" + output + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(output);
  std::stringstream printed;
  printed << in.rdbuf();
  ASSERT_EQ(status, 0) << printed.str();
  // Values by hand from the records above; runs in key order (0123..., 1111..., fedc...).
  EXPECT_EQ(printed.str(),
            "format: ptqat-results/1\n"
            "run 0123456789abcdef0123456789abcdef: stage=float_train task=detection "
            "method=float parent=-\n"
            "  config lines: 2\n"
            "  wall_time_s=0.0 trainable=0 peak_host_memory_bytes=0\n"
            "  metric loss = 0.7500\n"
            "run 11111111111111111111111111111111: stage=calibrate task=detection method=ptq "
            "parent=0123456789abcdef0123456789abcdef\n"
            "  config lines: 5\n"
            "  wall_time_s=2096.5 trainable=0 peak_host_memory_bytes=12884901888\n"
            "  layer backbone.conv1 (conv_bn2d, w4) discrepancy=0.0125 frozen\n"
            "run fedcba9876543210fedcba9876543210: stage=evaluate task=detection method=ptqat "
            "parent=11111111111111111111111111111111\n"
            "  config lines: 5\n"
            "  wall_time_s=2096.5 trainable=1234567 peak_host_memory_bytes=12884901888\n"
            "  metric loss = -1.5000\n"
            "  metric map = 0.3750\n"
            "  metric nds = 0.5125\n"
            "  per_class ap: car=0.5000, pedestrian=0.2500\n"
            "  per_class ate: car=0.1250, pedestrian=1.0000\n"
            "  layer backbone.conv1 (conv_bn2d, w4) discrepancy=0.0125 frozen\n"
            "  layer head.cls (linear, w32) discrepancy=2.5e-05 trainable\n"
            "  layer neck.up (conv_transpose2d, w4) discrepancy=0 trainable\n"
            "  history loss: 3 points, last 0.5000 at step 300\n"
            "  history val_nds: 2 points, last 0.5000 at step 2\n");
}

}  // namespace
}  // namespace ptqat::runner
