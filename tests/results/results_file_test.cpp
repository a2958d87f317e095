// Results files: merging, timestamps, and reading a consolidated file with h5py as docs/results.md
// shows.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/hdf5.h"
#include "results/results_listing.h"
#include "results/results_store.h"
#include "results/run_group.h"
#include "tests/results/example_records.h"
#include "tests/support/expect_error.h"
#include "tests/support/full_disk.h"
#include "tests/support/temp_dir.h"

namespace ptqat::results {
namespace {

namespace fs = std::filesystem;
using namespace ptqat::results::examples;

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
  RunRecord earlier_evaluation = evaluate_record();  // b's evaluation, recorded again since
  earlier_evaluation.finished_at = "2024-01-01T00:00:00Z";
  b.write(earlier_evaluation);
  b.write(evaluate_record(), Recording::kNewVersion);
  b.consolidate(dir.file("b.h5"));

  const MergeSummary summary =
      merge_results({dir.file("a.h5"), dir.file("b.h5")}, dir.file("out/merged.h5"));
  EXPECT_EQ(summary.runs_read, 3u);
  EXPECT_EQ(summary.duplicates, 1u);
  EXPECT_EQ(summary.runs_written, 2u);
  EXPECT_EQ(summary.superseded_written, 2u);
  const std::vector<RunRecord> runs = read_results(dir.file("out/merged.h5"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].metrics.at("loss"), 0.5);  // the later run, though its file came first
  expect_same(runs[1], evaluate_record());
  // Nothing dropped: the earlier run of the key and b's superseded version are kept.
  const core::h5::File merged = core::h5::File::open_read_only(dir.file("out/merged.h5"));
  const std::string path = dir.file("out/merged.h5");
  EXPECT_EQ(read_superseded(merged, path, kFloatKey + ".1").metrics.at("loss"), 1.0);
  EXPECT_EQ(read_superseded(merged, path, kEvaluateKey + ".1").finished_at,
            earlier_evaluation.finished_at);
  EXPECT_EQ(merged.open_group("superseded").children().size(), 2u);

  // Merged again with one of its inputs: the same runs, counted once.
  const MergeSummary again =
      merge_results({dir.file("out/merged.h5"), dir.file("b.h5")}, dir.file("again.h5"));
  EXPECT_EQ(again.runs_written, 2u);
  EXPECT_EQ(again.superseded_written, 2u);
}

TEST(ResultsStore, AFullDiskDuringAMergeIsAnIoErrorAndWritesNothing) {
  // HDF5 1.10 segfaulted inside H5Ocopy here (exit 139).
  testing::TempDir dir;
  const ResultsStore store(dir.path().string());
  store.write(float_record());
  store.write(evaluate_record());
  store.consolidate(dir.file("a.h5"));
  const std::string input = ptqat::testing::read_bytes(dir.file("a.h5"));
  EXPECT_EQ(testing::outcome_with_full_disk(
                1024, [&] { merge_results({dir.file("a.h5")}, dir.file("m.h5")); }),
            "IoError: " + dir.file("m.h5") + ": cannot write: File too large");
  EXPECT_EQ(ptqat::testing::read_bytes(dir.file("a.h5")), input);
  for (const fs::directory_entry& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().rfind("m.h5", 0), std::string::npos) << entry.path();
  }
}

TEST(ResultsStore, MergeWritesNothingWhenAnInputIsBadOrIsTheOutput) {
  testing::TempDir dir;
  const ResultsStore store(dir.path().string());
  store.write(float_record());
  store.consolidate(dir.file("a.h5"));
  testing::write_text(dir.path() / "bad.h5", "not hdf5");
  testing::expect_error<IoError>(
      [&] {
        merge_results({dir.file("a.h5"), dir.file("bad.h5")}, dir.file("m.h5"));
      },
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

/// The `index`-th ```python block of docs/results.md (0: pandas, 1: the short h5py reader,
/// 2: the full one).
std::string documented_python_example(size_t index) {
  std::ifstream in(std::string(PTQAT_SOURCE_DIR) + "/docs/results.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::string open = "```python\n";
  size_t begin = doc.find(open);
  for (size_t i = 0; i < index && begin != std::string::npos; ++i) {
    begin = doc.find(open, begin + open.size());
  }
  EXPECT_NE(begin, std::string::npos) << "docs/results.md has no ```python block " << index;
  if (begin == std::string::npos) return "";
  const size_t end = doc.find("```", begin + open.size());
  return doc.substr(begin + open.size(), end - begin - open.size());
}

/// Runs the `index`-th Python example of docs/results.md on `input`: its exit status and output.
std::pair<int, std::string> run_documented_example(const std::string& python, size_t index,
                                                   const std::string& input,
                                                   const testing::TempDir& dir) {
  const std::string script = dir.file("example.py");
  testing::write_text(script, documented_python_example(index));
  const std::string output = dir.file("output.txt");
  const int status =
      std::system((python + " " + script + " " + input + " >" + output + " 2>&1").c_str());
  return {status, ptqat::testing::read_bytes(output)};
}

/// A Python that can import `module`: Debian's (scripts/install_deps.sh installs python3-h5py
/// and python3-pandas), else whatever python3 is first on PATH (it may be a pyenv one without
/// them); "" if none.
std::string python_with_module(const std::string& module) {
  for (const std::string python : {"/usr/bin/python3", "python3"}) {
    if (std::system((python + " -c 'import " + module + "' >/dev/null 2>&1").c_str()) == 0) {
      return python;
    }
  }
  return "";
}

TEST(ResultsStore, TheDocumentedH5pyExampleReadsAConsolidatedFile) {
  const std::string python = python_with_module("h5py");
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

  const auto [status, printed] = run_documented_example(python, 2, dir.file("results.h5"), dir);
  ASSERT_EQ(status, 0) << printed;
  // Values by hand from the records above; runs in key order (0123..., 1111..., fedc...).
  EXPECT_EQ(printed,
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

TEST(ResultsStore, TheShortH5pyReaderPrintsTheFlatColumns) {
  const std::string python = python_with_module("h5py");
  if (python.empty()) GTEST_SKIP() << "python3 with h5py is not installed (python3-h5py)";
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(evaluate_record());
  store.consolidate(dir.file("results.h5"));
  const auto [status, printed] = run_documented_example(python, 1, dir.file("results.h5"), dir);
  ASSERT_EQ(status, 0) << printed;
  EXPECT_EQ(printed,
            "fedcba98 evaluate PTQAT 0.375 random(3) W4A8 seeds 11/3 loss=-1.5000 map=0.3750 "
            "nds=0.5125\n");
}

TEST(ResultsStore, ExportWritesOneCsvRowPerRunThatPandasReadsBack) {
  testing::TempDir dir;
  ResultsStore store(dir.path().string());
  store.write(float_record());
  RunRecord qat = evaluate_record();
  qat.labels.label = "QAT";
  qat.metrics = {{"NDS", 0.25}};
  store.write(qat);
  RunRecord ptqat = evaluate_record();
  ptqat.key = kCalibrateKey;
  ptqat.metrics = {{"NDS", 0.5}, {"mAP", 0.125}};
  ptqat.labels.name = "detection-transformer/w4a8/ptqat-0.38-random/seed3";
  store.write(ptqat);
  store.consolidate(dir.file("results.h5"));
  const std::string csv = results_csv(read_results(dir.file("results.h5")));
  std::istringstream lines(csv);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header,
            "key,parent_key,stage,task,model,method,weight_bits,activation_bits,freeze_ratio,rule,"
            "discrepancy_metric,discrepancy_mode,quant_seed,float_seed,label,name,NDS,loss,mAP,"
            "wall_s,train_s,attempts,peak_bytes,peak_device_bytes,trainable_params,finished_at");
  std::string first;
  std::getline(lines, first);  // the float record: key order
  EXPECT_EQ(first.rfind(kFloatKey + ",,float_train,detection,,float,0,0,0,,,,0,0,,,,0.75,,", 0), 0u)
      << first;
  std::string second;
  std::getline(lines, second);
  EXPECT_NE(
      second.find(
          ",\"detection, transformer encoder\",ptqat,4,8,0.375,random(3),cosine,"
          "cumulative,3,11,PTQAT 0.375 random(3),detection-transformer/w4a8/ptqat-0.38-random/"
          "seed3,0.5,,0.125,"),
      std::string::npos)
      << second;

  const std::string python = python_with_module("pandas");
  if (python.empty()) GTEST_SKIP() << "python3 with pandas is not installed (python3-pandas)";
  testing::write_text(dir.path() / "runs.csv", csv);
  const auto [status, printed] = run_documented_example(python, 0, dir.file("runs.csv"), dir);
  ASSERT_EQ(status, 0) << printed;
  // Grouped by label and bits: the mean NDS of each, from the very recorded values.
  EXPECT_NE(printed.find("PTQAT 0.375 random(3) 4"), std::string::npos) << printed;
  EXPECT_NE(printed.find("0.50"), std::string::npos) << printed;
  EXPECT_NE(printed.find("QAT"), std::string::npos) << printed;
  EXPECT_NE(printed.find("0.25"), std::string::npos) << printed;
}

}  // namespace
}  // namespace ptqat::results
