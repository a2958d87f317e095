#include "results/results_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
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
#include <thread>

#include "core/error.h"
#include "core/hdf5.h"
#include "core/version.h"
#include "tests/results/example_records.h"
#include "tests/support/expect_error.h"
#include "tests/support/full_disk.h"
#include "tests/support/temp_dir.h"

namespace ptqat::results {
namespace {

namespace fs = std::filesystem;
using namespace ptqat::results::examples;

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

/// A store's folder with its consolidated view: the records, the view, the view's lock.
const std::vector<std::string> kViewFolder = {".results.h5.lock", "records", "results.h5"};

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
  EXPECT_EQ(run.children(),
            (std::vector<std::string>{"config", "costs", "frozen_overlap", "history", "layers",
                                      "metrics", "per_class", "provenance"}));
  EXPECT_EQ(run.open_group("frozen_overlap").read_double("cumulative_cosine"), 0.5);
  EXPECT_EQ(run.open_group("provenance").read_string("mapping"), "mmdet3d");
  EXPECT_EQ(run.open_group("metrics").shape("nds"), std::vector<hsize_t>{});
  EXPECT_EQ(run.open_group("per_class").read_strings("classes"),
            (std::vector<std::string>{"car", "pedestrian"}));
  core::h5::Group layers = run.open_group("layers");
  EXPECT_EQ(layers.read_strings("kind"),
            (std::vector<std::string>{"conv_bn2d", "linear", "conv_transpose2d"}));
  EXPECT_EQ(layers.read_int64s("frozen"), (std::vector<int64_t>{1, 0, 0}));
  EXPECT_EQ(layers.read_int64s("ranked"), (std::vector<int64_t>{0, 0, 1}));
  EXPECT_EQ(layers.read_doubles("discrepancy_isolated_nmse"),
            (std::vector<double>{0.0125, 2.5e-05, 0}));
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

TEST(ResultsStore, WritingAKeyAgainIsRefusedAndChangesNothing) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(evaluate_record());
  const std::string before = ptqat::testing::read_bytes(store.record_path(kEvaluateKey));
  RunRecord second = evaluate_record();
  second.metrics = {{"nds", 0.0}};  // e.g. a rerun on a broken checkpoint
  second.history.clear();
  testing::expect_error<RecordExists>(
      [&] { store.write(second); },
      {store.record_path(kEvaluateKey), "recorded already", "--force"});
  EXPECT_EQ(ptqat::testing::read_bytes(store.record_path(kEvaluateKey)), before);
  EXPECT_TRUE(store.superseded(kEvaluateKey).empty());
  EXPECT_EQ(files_in(dir.path() / "records"), std::vector<std::string>{kEvaluateKey + ".h5"});
}

TEST(ResultsStore, ANewVersionKeepsTheRecordedOneAsSupersededAndConsolidatesBoth) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  RunRecord first = evaluate_record();
  store.write(first);
  const std::string first_bytes = ptqat::testing::read_bytes(store.record_path(kEvaluateKey));
  RunRecord second = evaluate_record();
  second.metrics = {{"nds", 0.625}};
  second.layers.pop_back();
  second.history.erase("loss");
  store.write(second, Recording::kNewVersion);
  RunRecord third = evaluate_record();
  third.metrics = {{"nds", 0.75}};
  store.write(third, Recording::kNewVersion);

  expect_same(store.read(kEvaluateKey), third);  // the newest is the record
  const std::vector<std::string> versions = store.superseded(kEvaluateKey);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(fs::path(versions[0]).filename(), kEvaluateKey + ".1.h5");
  EXPECT_EQ(ptqat::testing::read_bytes(versions[0]), first_bytes);  // the very file, byte for byte
  expect_same(read_results(versions[1]).at(0), second);

  const std::string results = (dir.path() / "results.h5").string();
  store.consolidate(results);
  const std::vector<RunRecord> current = read_results(results);
  ASSERT_EQ(current.size(), 1u);
  expect_same(current[0], third);
  core::h5::File file = core::h5::File::open_read_only(results);
  EXPECT_EQ(file.open_group("superseded").children(),
            (std::vector<std::string>{kEvaluateKey + ".1", kEvaluateKey + ".2"}));
}

TEST(ResultsStore, AFailedWriteLeavesThePublishedRecordAndNoTemporary) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(evaluate_record());

  // Fails inside HDF5 (building the file in memory), before any file is created.
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
  EXPECT_EQ(files_in(dir.path()), kViewFolder);
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

TEST(ResultsStore, AFullDiskDuringARecordOrAConsolidationIsAnIoErrorAndEveryEarlierRecordStays) {
  // HDF5 1.10 itself wrote the files before: a consolidation that hit a full disk segfaulted in
  // H5Ocopy (exit 139), a failed record flush in HDF5's shutdown.
  testing::TempDir dir;
  const ResultsStore store(dir.path().string());
  store.write(float_record());
  const std::string results = dir.file("results.h5");
  store.consolidate(results);
  const std::string record_bytes = ptqat::testing::read_bytes(store.record_path(kFloatKey));
  const std::string view_bytes = ptqat::testing::read_bytes(results);

  constexpr rlim_t kFull = 1024;  // smaller than any record
  EXPECT_EQ(testing::outcome_with_full_disk(kFull, [&] { store.write(evaluate_record()); }),
            "IoError: " + store.record_path(kEvaluateKey) + ": cannot write: File too large");
  EXPECT_EQ(testing::outcome_with_full_disk(
                kFull, [&] { store.write(float_record(), Recording::kNewVersion); }),
            "IoError: " + store.record_path(kFloatKey) + ": cannot write: File too large");
  store.write(evaluate_record());
  EXPECT_EQ(testing::outcome_with_full_disk(kFull, [&] { store.consolidate(results); }),
            "IoError: " + results + ": cannot write: File too large");

  EXPECT_EQ(ptqat::testing::read_bytes(store.record_path(kFloatKey)), record_bytes);
  EXPECT_EQ(ptqat::testing::read_bytes(results), view_bytes);
  EXPECT_TRUE(store.superseded(kFloatKey).empty());
  EXPECT_EQ(files_in(dir.path()), kViewFolder);
  EXPECT_EQ(files_in(dir.path() / "records"),
            (std::vector<std::string>{kFloatKey + ".h5", kEvaluateKey + ".h5"}));
}

TEST(ResultsStore, AWriterKilledMidRecordLeavesEveryPublishedRecordWhole) {
  testing::TempDir dir;
  const ResultsStore store(dir.path().string());
  store.write(float_record());
  const std::string earlier = ptqat::testing::read_bytes(store.record_path(kFloatKey));
  const std::string results = dir.file("results.h5");
  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {  // records and views, as fast as it can, until it is killed
    for (int i = 0;; ++i) {
      RunRecord record = evaluate_record();
      record.key = fmt::format("{:032x}", i);
      store.write(record);
      store.consolidate(results);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(writer, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(writer, &status, 0), writer);
  ASSERT_TRUE(WIFSIGNALED(status));

  const ResultsStore reopened(dir.path().string());  // removes the dead writer's temporaries
  EXPECT_EQ(ptqat::testing::read_bytes(reopened.record_path(kFloatKey)), earlier);
  const std::vector<std::string> keys = reopened.keys();
  EXPECT_GT(keys.size(), 1u) << "the writer published nothing before it was killed";
  for (const std::string& key : keys) EXPECT_NO_THROW(reopened.read(key)) << key;
  if (fs::exists(results)) {
    EXPECT_NO_THROW(read_results(results));
  }
  reopened.consolidate(results);
  EXPECT_EQ(read_results(results).size(), keys.size());
  for (const std::string& name : files_in(dir.path() / "records")) {
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
  }
}

TEST(ResultsStore, AStageMadeFromAnEarlierVersionOfItsParentIsNotCurrent) {
  testing::TempDir dir;
  const ResultsStore store(dir.path().string());
  store.write(float_record());
  RunRecord calibration = float_record();
  calibration.key = kCalibrateKey;
  calibration.parent_key = kFloatKey;
  calibration.stage = "calibrate";
  calibration.parent_content_hash = float_record().content_hash;
  calibration.content_hash = "c1";
  store.write(calibration);
  RunRecord evaluation = evaluate_record();  // continues the calibration
  evaluation.parent_content_hash = "c1";
  store.write(evaluation);
  EXPECT_TRUE(store.is_current(kFloatKey));
  EXPECT_TRUE(store.is_current(kCalibrateKey));
  EXPECT_TRUE(store.is_current(kEvaluateKey));

  RunRecord retrained = float_record();  // say, `train --force` or an import over it
  retrained.content_hash = "another float model";
  store.write(retrained, Recording::kNewVersion);
  EXPECT_TRUE(store.is_current(kFloatKey));
  EXPECT_FALSE(store.is_current(kCalibrateKey));
  EXPECT_FALSE(store.is_current(kEvaluateKey));  // its grandparent changed

  calibration.parent_content_hash = retrained.content_hash;  // calibrated again from it
  calibration.content_hash = "c2";
  store.write(calibration, Recording::kNewVersion);
  EXPECT_TRUE(store.is_current(kCalibrateKey));
  EXPECT_FALSE(store.is_current(kEvaluateKey));
  EXPECT_FALSE(store.is_current("0000000000000000000000000000beef"));
}

TEST(ResultsStore, AViewOfAnotherStoreOrAMergedFileIsNeverReplaced) {
  // Two sweeps with one --out: the second one's view dropped the first one's runs.
  testing::TempDir dir;
  const ResultsStore first(dir.file("first"));
  first.write(float_record());
  const std::string shared = dir.file("shared.h5");
  first.consolidate(shared);
  const std::string bytes = ptqat::testing::read_bytes(shared);
  const ResultsStore second(dir.file("second"));
  second.write(evaluate_record());
  testing::expect_error<ConfigError>([&] { second.check_view(shared); },
                                     {shared, dir.file("first"), "results merge"});
  testing::expect_error<ConfigError>([&] { second.consolidate(shared); }, {shared});
  EXPECT_EQ(ptqat::testing::read_bytes(shared), bytes);
  // A copy of the store (or the store moved) records the same runs: it rebuilds the view.
  fs::copy(dir.file("first"), dir.file("copy"), fs::copy_options::recursive);
  ResultsStore(dir.file("copy")).consolidate(shared);
  EXPECT_EQ(read_results(shared).size(), 1u);

  // A merged file names no store: a store rebuilds it only when it records every run in it.
  const std::string merged = dir.file("merged.h5");
  merge_results({shared}, merged);
  testing::expect_error<ConfigError>([&] { second.consolidate(merged); }, {merged, kFloatKey});
  first.consolidate(merged);
  EXPECT_EQ(read_results(merged).size(), 1u);
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
  EXPECT_EQ(files_in(dir.path()), kViewFolder);
  EXPECT_EQ(files_in(records), (std::vector<std::string>{kFloatKey + ".h5", busy}));
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
  EXPECT_EQ(files_in(dir.path()), kViewFolder);
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
}  // namespace
}  // namespace ptqat::results
