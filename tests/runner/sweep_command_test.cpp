// `ptqat sweep`: the real executable on the tiny synthetic dataset, alone and under mpirun.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "results/results_store.h"
#include "tests/runner/cli_run.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {
namespace {

const std::string kTinySweep = std::string(PTQAT_SOURCE_DIR) + "/configs/sweeps/tiny.toml";

class SweepCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::ptqat("data synth --preset tiny --out " + dir_.file("data")).exit_code, 0);
  }
  /// The arguments that point the tiny sweep at this test's data and `run` folder.
  std::string sweep_args(const std::string& run, const std::string& sweep = kTinySweep) const {
    return "sweep " + sweep + " --set data.dataroot=" + dir_.file("data") +
           " --set output.dir=" + dir_.file(run) + " --set runtime.threads=1";
  }
  static std::map<std::string, results::RunRecord> by_key(const std::string& results) {
    std::map<std::string, results::RunRecord> runs;
    for (results::RunRecord& run : results::read_results(results))
      runs.emplace(run.key, std::move(run));
    return runs;
  }
  ptqat::testing::TempDir dir_;
};

TEST_F(SweepCommand, RunsEachSharedStageOnceAndARerunSkipsEverything) {
  const testing::CliRun dry = testing::ptqat(sweep_args("run") + " --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("12 points"), std::string::npos) << dry.output;
  EXPECT_NE(
      dry.output.find("9 stages (2 calibrate, 6 fine_tune, 1 float_train); 0 recorded, 9 to run"),
      std::string::npos)
      << dry.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("run/results.h5")));

  const testing::CliRun sweep = testing::ptqat(sweep_args("run"));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  const std::map<std::string, results::RunRecord> runs = by_key(dir_.file("run/results.h5"));
  ASSERT_EQ(runs.size(), 9u);
  std::map<std::string, int> per_stage;
  for (const auto& [key, run] : runs) {
    ++per_stage[run.stage];
    if (!run.parent_key.empty()) {
      EXPECT_EQ(runs.count(run.parent_key), 1u) << key;
    }
  }
  EXPECT_EQ(per_stage,
            (std::map<std::string, int>{{"float_train", 1}, {"calibrate", 2}, {"fine_tune", 6}}));
  // Each stage's own report is in its log.
  for (const auto& [key, run] : runs) {
    EXPECT_TRUE(std::filesystem::exists(dir_.file("run/logs/" + key + ".log"))) << key;
  }

  const testing::CliRun again = testing::ptqat(sweep_args("run"));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("ran 0 stages, 9 were recorded already"), std::string::npos)
      << again.output;

  // A second sweep with its own store and the same --out: its consolidations dropped the first
  // sweep's runs from the file. Now it stops before its first stage.
  const std::string shared = dir_.file("run/results.h5");
  const std::string before = ptqat::testing::read_bytes(shared);
  const testing::CliRun second = testing::ptqat(sweep_args("other") + " --out " + shared);
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("error: " + shared + ": holds run "), std::string::npos)
      << second.output;
  EXPECT_NE(second.output.find("results merge"), std::string::npos) << second.output;
  EXPECT_EQ(ptqat::testing::read_bytes(shared), before);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("other/checkpoints")));
}

/// The rows of a CSV without quoted fields, split at commas; the header row first.
std::vector<std::vector<std::string>> csv_rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(csv);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.find('"'), std::string::npos) << line;
    std::vector<std::string> fields;
    std::istringstream parts(line + ",");
    for (std::string field; std::getline(parts, field, ',');) fields.push_back(field);
    rows.push_back(std::move(fields));
  }
  return rows;
}

/// The column of `name` in `header`.
size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto found = std::find(header.begin(), header.end(), name);
  EXPECT_NE(found, header.end()) << name;
  return static_cast<size_t>(found - header.begin());
}

TEST_F(SweepCommand, FineTuneSeedsGivePairedDeltasThatTheCsvExportReproduces) {
  ptqat::testing::write_text(dir_.path() / "seeds.toml",
                             "base = \"" + std::string(PTQAT_SOURCE_DIR) +
                                 "/configs/detection/tiny.toml\"\n[grid]\n"
                                 "\"quant.method\" = [\"qat\", \"ptqat\"]\n"
                                 "\"quant.rule\" = [\"smallest\", \"largest\"]\n"
                                 "\"quant.seed\" = [0, 1, 2]\n");
  const testing::CliRun sweep = testing::ptqat(sweep_args("seeds", dir_.file("seeds.toml")));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  // One float model and one calibration serve the three fine-tune seeds.
  EXPECT_NE(sweep.output.find("ran 11 stages"), std::string::npos) << sweep.output;
  const std::string results = dir_.file("seeds/results.h5");

  const testing::CliRun exported =
      testing::ptqat("results export " + results + " --csv " + dir_.file("runs.csv"));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const auto runs = csv_rows(ptqat::testing::read_bytes(dir_.file("runs.csv")));
  // The detection metrics docs/results.md names are columns under those names.
  const std::string results_doc =
      ptqat::testing::read_bytes(std::string(PTQAT_SOURCE_DIR) + "/docs/results.md");
  for (const std::string metric : {"NDS", "mAP", "mATE"}) {
    EXPECT_NE(results_doc.find("`" + metric + "`"), std::string::npos) << metric;
    column(runs[0], metric);
  }
  column(runs[0], "name");
  std::map<std::string, std::map<std::string, double>> nds;  // label -> quant_seed -> NDS
  for (size_t i = 1; i < runs.size(); ++i) {
    const auto& run = runs[i];
    if (run[column(runs[0], "stage")] != "fine_tune") continue;
    nds[run[column(runs[0], "label")]][run[column(runs[0], "quant_seed")]] =
        std::stod(run[column(runs[0], "NDS")]);
  }
  ASSERT_EQ(nds["QAT"].size(), 3u);
  ASSERT_EQ(nds["PTQAT 0.5 smallest"].size(), 3u);
  double sum = 0;
  for (const auto& [seed, value] : nds["PTQAT 0.5 smallest"]) sum += value - nds["QAT"].at(seed);

  const testing::CliRun report = testing::ptqat("report " + results + " --format csv", false);
  ASSERT_EQ(report.exit_code, 0) << report.output;
  const auto table = csv_rows(report.output);
  bool found = false;
  for (size_t i = 1; i < table.size(); ++i) {
    const auto& row = table[i];
    if (row[column(table[0], "method")] != "PTQAT" || row[column(table[0], "rule")] != "smallest")
      continue;
    found = true;
    EXPECT_NEAR(std::stod(row[column(table[0], "Δ NDS vs QAT")]), sum / 3, 1e-6);
    EXPECT_EQ(row[column(table[0], "Δ NDS vs QAT n")], "3");
    EXPECT_FALSE(row[column(table[0], "Δ NDS vs QAT low")].empty());
  }
  EXPECT_TRUE(found) << report.output;
  const testing::CliRun markdown = testing::ptqat("report " + results, false);
  ASSERT_EQ(markdown.exit_code, 0) << markdown.output;
  EXPECT_NE(markdown.output.find("### Claims"), std::string::npos) << markdown.output;
  EXPECT_NE(markdown.output.find("PTQAT(0.5, smallest) >= full QAT on NDS"), std::string::npos)
      << markdown.output;
}

TEST_F(SweepCommand, TwoGroupsOfOneRankShareTheWorkAndMatchOneProcess) {
  ASSERT_EQ(testing::ptqat(sweep_args("alone")).exit_code, 0);
  const testing::CliRun sweep =
      testing::run_command(std::string(PTQAT_MPIEXEC) + " -np 2 " + PTQAT_EXECUTABLE + " " +
                           sweep_args("mpi") + " --out " + dir_.file("mpi.h5"));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  EXPECT_NE(sweep.output.find("(group 0)"), std::string::npos) << sweep.output;
  EXPECT_NE(sweep.output.find("(group 1)"), std::string::npos) << sweep.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("mpi/results.h5")));  // --out moved it

  const std::map<std::string, results::RunRecord> alone = by_key(dir_.file("alone/results.h5"));
  const std::map<std::string, results::RunRecord> mpi = by_key(dir_.file("mpi.h5"));
  ASSERT_EQ(alone.size(), mpi.size());
  for (const auto& [key, run] : alone) {
    ASSERT_EQ(mpi.count(key), 1u) << key;
    for (const auto& [metric, value] : run.metrics) {
      EXPECT_NEAR(mpi.at(key).metrics.at(metric), value, 1e-9) << key << " " << metric;
    }
  }
}

TEST_F(SweepCommand, OneGroupOfTwoRanksTrainsEachStageDataParallel) {
  ptqat::testing::write_text(dir_.path() / "two.toml",
                             "base = \"" + std::string(PTQAT_SOURCE_DIR) +
                                 "/configs/detection/tiny.toml\"\nranks_per_run = 2\n"
                                 "[grid]\n\"quant.method\" = [\"qat\"]\n");
  const testing::CliRun sweep =
      testing::run_command(std::string(PTQAT_MPIEXEC) + " -np 2 " + PTQAT_EXECUTABLE + " " +
                           sweep_args("run", dir_.file("two.toml")) +
                           " --set train.sync_batchnorm=true --set finetune.sync_batchnorm=true");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  for (const auto& [key, run] : by_key(dir_.file("run/results.h5"))) {
    // 16 training samples, batch 2 per rank, 2 ranks: 4 steps per epoch (8 on one rank).
    if (run.stage == "float_train") {
      EXPECT_EQ(run.history.at("loss").values.size(), 8u);
    } else if (run.stage == "fine_tune") {
      EXPECT_EQ(run.history.at("loss").values.size(), 4u);
    }
  }
}

TEST_F(SweepCommand, OnlyPlansThePointsUnderAStageName) {
  const testing::CliRun w8 =
      testing::ptqat(sweep_args("run") + " --only detection-cnn/w8a8 --dry-run");
  ASSERT_EQ(w8.exit_code, 0) << w8.output;
  EXPECT_NE(w8.output.find("6 points"), std::string::npos) << w8.output;
  EXPECT_NE(
      w8.output.find("5 stages (1 calibrate, 3 fine_tune, 1 float_train); 0 recorded, 5 to run"),
      std::string::npos)
      << w8.output;
  EXPECT_EQ(w8.output.find("w4a8"), std::string::npos) << w8.output;

  const testing::CliRun two =
      testing::ptqat(sweep_args("run") + " --only detection-cnn/w4a8/qat --only " +
                     "detection-cnn/w8a8/ptqat-0.50-largest/seed0 --dry-run");
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("5 stages (2 calibrate, 2 fine_tune, 1 float_train)"),
            std::string::npos)
      << two.output;

  // Names match whole segments: "detection" is no stage's name or folder.
  const testing::CliRun none = testing::ptqat(sweep_args("run") + " --only detection --dry-run");
  EXPECT_EQ(none.exit_code, 1) << none.output;
  EXPECT_NE(none.output.find("--only detection: no point's name starts with it"), std::string::npos)
      << none.output;
}

TEST_F(SweepCommand, ARecordWhoseCheckpointIsGoneIsMadeAgainWhereAStageStillNeedsIt) {
  const std::string qat = sweep_args("run") + " --only detection-cnn/w4a8/qat";
  ASSERT_EQ(testing::ptqat(qat).exit_code, 0);
  // The store without its checkpoints, as a fresh clone of a committed store has it.
  std::filesystem::remove_all(dir_.file("run/checkpoints"));
  const testing::CliRun again = testing::ptqat(qat);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("ran 0 stages, 3 were recorded already"), std::string::npos)
      << again.output;  // nothing needs them

  // PTQAT needs the calibration's checkpoint, which needs the float model's: all are made
  // again, and QAT with them, since its calibration is a new version.
  const testing::CliRun more = testing::ptqat(sweep_args("run") + " --only detection-cnn/w4a8");
  ASSERT_EQ(more.exit_code, 0) << more.output;
  EXPECT_NE(more.output.find("ran 5 stages, 0 were recorded already"), std::string::npos)
      << more.output;
  const results::ResultsStore store(dir_.file("run"));
  const std::map<std::string, results::RunRecord> runs = by_key(dir_.file("run/results.h5"));
  ASSERT_EQ(runs.size(), 5u);
  for (const auto& [key, run] : runs) {
    EXPECT_TRUE(store.is_current(key)) << run.labels.name;
    if (run.stage == "float_train") {
      EXPECT_EQ(store.superseded(key).size(), 1u);
      const std::string log = ptqat::testing::read_bytes(dir_.file("run/logs/" + key + ".log"));
      EXPECT_NE(log.find("is gone; making it again"), std::string::npos) << log;
    }
  }
  const testing::CliRun report = testing::ptqat("report " + dir_.file("run/results.h5"), false);
  EXPECT_EQ(report.output.find("Left out"), std::string::npos) << report.output;
}

TEST_F(SweepCommand, BadSweepsFailWithOneLineNamingThePoint) {
  // A sweep over the tiny detection config with one grid axis.
  const auto sweep_with_axis = [&](const std::string& name, const std::string& axis) {
    ptqat::testing::write_text(dir_.path() / name, "base = \"" + std::string(PTQAT_SOURCE_DIR) +
                                                       "/configs/detection/tiny.toml\"\n[grid]\n" +
                                                       axis + "\n");
    return testing::ptqat(sweep_args("run", dir_.file(name)));
  };
  const testing::CliRun bad = sweep_with_axis("bad.toml", "\"quant.weight.bits\" = [4, 1]");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("point quant.weight.bits=1"), std::string::npos) << bad.output;

  const testing::CliRun dirs =
      sweep_with_axis("dirs.toml", "\"output.results\" = [\"a.h5\", \"b.h5\"]");
  EXPECT_EQ(dirs.exit_code, 1);
  EXPECT_NE(dirs.output.find("one results store"), std::string::npos) << dirs.output;

  const testing::CliRun uneven =
      testing::run_command(std::string(PTQAT_MPIEXEC) + " -np 2 " + PTQAT_EXECUTABLE + " " +
                           sweep_args("run") + " --set quant.calibration_batches=1 --dry-run");
  EXPECT_EQ(uneven.exit_code, 0) << uneven.output;  // a dry run needs no groups
}

}  // namespace
}  // namespace ptqat::runner
