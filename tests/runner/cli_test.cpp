// Runs the real `ptqat` executable and checks what a user sees: output, one-line errors, exit
// codes.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "results/results_store.h"
#include "runner/exit_codes.h"
#include "tests/runner/cli_run.h"
#include "tests/support/nuscenes_fixture.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {

namespace {

using testing::CliRun;
using testing::ptqat;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST(Cli, VersionNamesTheGitRevision) {
  const CliRun run = ptqat("--version");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(contains(run.output, "ptqat 0.1.0 (git ")) << run.output;
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* command : {"", "config", "config show", "config keys", "data", "data info",
                              "data inspect", "data synth", "bench", "bench loader"}) {
    const CliRun run = ptqat(std::string(command) + " --help");
    EXPECT_EQ(run.exit_code, 0) << command;
    EXPECT_TRUE(contains(run.output, "Usage")) << command << ": " << run.output;
  }
}

TEST(Cli, ConfigShowPrintsTheResolvedConfigWithOverrides) {
  const CliRun run = ptqat("config show --set data.nsweeps=3 --set runtime.device=cpu");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "nsweeps = 3")) << run.output;
  EXPECT_TRUE(contains(run.output, "device = 'cpu'")) << run.output;
  EXPECT_TRUE(contains(run.output, "[pillars]")) << run.output;
}

// Every config the project ships loads and validates: run configs through `config show`, sweep
// files (configs/sweeps, configs/paper) through `sweep --dry-run`, which validates every point.
// The demo once shipped a config that failed only at its first training sample.
TEST(Cli, EveryShippedConfigLoadsAndValidates) {
  const std::filesystem::path configs = std::filesystem::path(PTQAT_SOURCE_DIR) / "configs";
  testing::TempDir dir;  // a dry run opens the sweep's output folder (relative paths land here)
  int checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(configs)) {
    if (entry.path().extension() != ".toml") continue;
    const std::string folder = entry.path().parent_path().filename().string();
    const bool sweep = folder == "sweeps" || folder == "paper";
    const CliRun run = testing::run_command(
        "cd " + dir.path().string() + " && " + PTQAT_EXECUTABLE +
        (sweep ? " sweep --dry-run " : " config show ") + entry.path().string());
    EXPECT_EQ(run.exit_code, 0) << entry.path() << ": " << run.output;
    ++checked;
  }
  EXPECT_GE(checked, 21);
}

TEST(Cli, UnknownConfigKeyIsOneLineWithTheClosestKey) {
  testing::TempDir dir;
  testing::write_text(dir.path() / "run.toml", "[data]\nnsweps = 3\n");
  const CliRun run = ptqat("config show " + dir.file("run.toml"));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, "error: " + dir.file("run.toml") +
                            ":2: unknown key 'data.nsweps' (closest valid key: 'data.nsweeps')\n");
}

TEST(Cli, AMistypedOverrideKeyIsBlamedOnTheOverride) {
  // It was blamed on the config file, which does not hold the key.
  const CliRun run = ptqat("config show " + std::string(PTQAT_SOURCE_DIR) +
                           "/configs/detection/tiny.toml --set quant.wieght.bits=4");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output,
            "error: --set quant.wieght.bits=4: unknown key 'quant.wieght' (closest valid key: "
            "'quant.weight')\n");
}

TEST(Cli, OutOfRangeOverrideIsOneLine) {
  const CliRun run = ptqat("config show --set loader.batch_size=0");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(lines(run.output), 1) << run.output;
  EXPECT_TRUE(contains(run.output, "loader.batch_size: expected an integer in [1, 4096], got 0"));
}

TEST(Cli, DataInfoPrintsTablesBoxesPointsAndLabels) {
  testing::TempDir dir;
  testing::standard_fixture({"scene-0061", "scene-0103"}, 3, 2).write(dir.path().string());
  const CliRun run = ptqat("data info --dataroot " + dir.path().string() + " --version v1.0-mini");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "sample_annotation          12")) << run.output;
  EXPECT_TRUE(contains(run.output, "car                             6")) << run.output;
  EXPECT_TRUE(contains(run.output, "pedestrian                      6")) << run.output;
  EXPECT_TRUE(contains(run.output, "points per keyframe sweep (6 keyframes read): mean 64"));
  EXPECT_TRUE(contains(run.output, "lidarseg labels (16 challenge classes"));
  EXPECT_TRUE(contains(run.output, "Occ3D classes (6 label files)"));
  EXPECT_TRUE(contains(run.output, "index time:"));
}

TEST(Cli, DataInfoOnATablesOnlyDatasetSkipsSensorFiles) {
  testing::TempDir dir;
  testing::standard_fixture({"scene-0061"}, 2, 0).write(dir.path().string());
  std::filesystem::remove_all(dir.path() / "samples");
  const CliRun run = ptqat("data info --dataroot " + dir.path().string() + " --version v1.0-mini");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "sensor files: absent (a tables-only dataset)")) << run.output;
}

TEST(Cli, DataInfoOnAMissingDatarootIsOneLine) {
  const CliRun run = ptqat("data info --dataroot /nonexistent --version v1.0-mini");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output,
            "error: /nonexistent: no such dataroot (expected a folder holding v1.0-mini/ with the "
            "nuScenes tables)\n");
}

TEST(Cli, DataInspectSummarisesEachFileKind) {
  testing::TempDir dir;
  testing::NuScenesFixture fixture = testing::standard_fixture({"scene-0061"}, 1, 0);
  const auto keyframe = fixture.tables().sample_data[0];
  fixture.set_points(keyframe.token,
                     torch::tensor({{1.f, -2.f, 3.f, 10.f, 0.f}, {4.f, 5.f, -6.f, 20.f, 31.f}}));
  fixture.set_lidarseg(keyframe.token, torch::tensor({17, 17}, torch::kUInt8));
  fixture.write(dir.path().string());

  const CliRun points = ptqat("data inspect " + dir.file(keyframe.filename));
  EXPECT_EQ(points.exit_code, 0) << points.output;
  EXPECT_TRUE(contains(points.output, "points: 2")) << points.output;
  EXPECT_TRUE(contains(points.output, "x          min      1.000  max      4.000"))
      << points.output;
  EXPECT_TRUE(contains(points.output, "ring       min      0.000  max     31.000"))
      << points.output;

  const CliRun labels = ptqat(
      "data inspect " + dir.file("lidarseg/v1.0-mini/" + keyframe.token.hex() + "_lidarseg.bin"));
  EXPECT_EQ(labels.exit_code, 0) << labels.output;
  EXPECT_TRUE(contains(labels.output, "lidarseg labels: 2")) << labels.output;
  EXPECT_TRUE(contains(labels.output, " 17 ")) << labels.output;

  const std::string occ =
      dir.file("gts/scene-0061/" + fixture.tables().sample[0].token.hex() + "/labels.npz");
  const CliRun grid = ptqat("data inspect " + occ);
  EXPECT_EQ(grid.exit_code, 0) << grid.output;
  EXPECT_TRUE(contains(grid.output, "grid: 200 x 200 x 16")) << grid.output;
  EXPECT_TRUE(contains(grid.output, "mask_camera: 640000 visible voxels")) << grid.output;
  EXPECT_TRUE(contains(grid.output, "driveable_surface")) << grid.output;
  EXPECT_TRUE(contains(grid.output, "639999 (100.00%)")) << grid.output;  // free
}

TEST(Cli, BadDataFilesAreOneLineErrors) {
  testing::TempDir dir;
  testing::write_text(dir.path() / "cut.pcd.bin", std::string(47, 'x'));
  testing::write_text(dir.path() / "bad.npz", "this is not a zip archive");
  testing::write_text(dir.path() / "notes.txt", "hello");
  for (const char* name : {"cut.pcd.bin", "bad.npz", "notes.txt", "missing.pcd.bin"}) {
    const CliRun run = ptqat("data inspect " + dir.file(name));
    EXPECT_EQ(run.exit_code, 1) << name;
    EXPECT_EQ(lines(run.output), 1) << run.output;
    EXPECT_TRUE(contains(run.output, "error: " + dir.file(name))) << run.output;
  }
}

TEST(Cli, BenchLoaderRunsTheTrainingLoaderOnAConfig) {
  testing::TempDir dir;
  testing::standard_fixture({"scene-0061", "scene-0553"}, 3, 2).write(dir.path().string());
  testing::write_text(dir.path() / "run.toml",
                      "[data]\ndataroot = \"" + dir.path().string() + "\"\nnsweeps = 3\n");
  const CliRun run = ptqat("bench loader " + dir.file("run.toml") +
                           " --set loader.workers=1 --set loader.batch_size=2 --batches 4");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  // 6 samples in mini_train: 3 batches per epoch, so 4 batches cross into a second epoch.
  EXPECT_TRUE(contains(run.output, "loader: 4 batches, 8 samples")) << run.output;
  EXPECT_TRUE(contains(run.output, "(1 workers")) << run.output;
}

TEST(Cli, DataSynthWritesADatasetThatDataInfoReads) {
  testing::TempDir dir;
  const CliRun synth =
      ptqat("data synth --out " + dir.file("synth") + " --preset tiny --scenes 2 --samples 2");
  EXPECT_EQ(synth.exit_code, 0) << synth.output;
  EXPECT_TRUE(contains(synth.output, "2 scenes, 4 samples, 22 sample_data")) << synth.output;
  const CliRun info = ptqat("data info --dataroot " + dir.file("synth") + " --version v1.0-synth");
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_TRUE(contains(info.output, "sample                      4")) << info.output;
  EXPECT_TRUE(contains(info.output, "Occ3D classes (4 label files)")) << info.output;
}

TEST(Cli, DataSynthBadInputIsOneLine) {
  testing::TempDir dir;
  testing::write_text(dir.path() / "file", "x");
  const std::pair<std::string, std::string> cases[] = {
      {"--scenes 0", "--scenes: expected a number of scenes in [1, 9999], got 0"},
      {"--samples -5", "--samples: expected keyframes per scene in [2, 1000], got -5"},
      {"--preset huge", "--preset: expected one of tiny, demo, trainval, got \"huge\""}};
  for (const auto& [arguments, message] : cases) {
    const CliRun run = ptqat("data synth --out " + dir.file("out") + " " + arguments);
    EXPECT_EQ(run.exit_code, 1) << arguments;
    EXPECT_EQ(run.output, "error: " + message + "\n");
  }
  const CliRun unwritable = ptqat("data synth --out " + dir.file("file") + "/out --scenes 1");
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_EQ(lines(unwritable.output), 1) << unwritable.output;
  EXPECT_TRUE(contains(unwritable.output, "cannot create the output folder")) << unwritable.output;
}

TEST(Cli, GtDatabaseThenTrainingWithGtPasteAndCbgs) {
  testing::TempDir dir;
  ASSERT_EQ(ptqat("data synth --out " + dir.file("synth") + " --preset tiny").exit_code, 0);
  const std::string config = std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml";
  const std::string data =
      " --set data.dataroot=" + dir.file("synth") + " --set data.lidarseg=true";
  const CliRun gtdb =
      ptqat("data gtdb --config " + config + data + " --out " + dir.file("gtdb.h5"));
  ASSERT_EQ(gtdb.exit_code, 0) << gtdb.output;
  EXPECT_TRUE(contains(gtdb.output, dir.file("gtdb.h5") + ": ")) << gtdb.output;
  EXPECT_TRUE(contains(gtdb.output, "pedestrian")) << gtdb.output;
  const CliRun train =
      ptqat("train --config " + config + data + " --set output.dir=" + dir.file("run") +
            " --set train.epochs=1 --set runtime.threads=1 --set data.cbgs=true" +
            " --set augment.gt_paste=true --set augment.gt_database=" + dir.file("gtdb.h5"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  // Without the database file: one line naming it.
  const CliRun missing =
      ptqat("train --config " + config + data + " --set output.dir=" + dir.file("run2") +
                " --set augment.gt_paste=true --set augment.gt_database=" + dir.file("none.h5"),
            true);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.output, "none.h5: no ground-truth database")) << missing.output;
}

TEST(Cli, TrainingOnCudaWithMixedPrecision) {
  testing::TempDir dir;
  const std::string config = std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml";
  if (!torch::cuda::is_available()) {
    // Asking for a GPU where there is none is one line, before any data is read.
    const CliRun run = ptqat("train --config " + config +
                             " --set runtime.device=cuda --set output.dir=" + dir.file("run") +
                             " --set data.dataroot=" + dir.file("none"));
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(lines(run.output), 1) << run.output;
    EXPECT_TRUE(contains(run.output, "runtime.device: expected a visible CUDA device"))
        << run.output;
    GTEST_SKIP() << "no CUDA device for the training run";
  }
  ASSERT_EQ(ptqat("data synth --out " + dir.file("synth") + " --preset tiny").exit_code, 0);
  const std::string common = " --set data.dataroot=" + dir.file("synth") +
                             " --set output.dir=" + dir.file("run") +
                             " --set runtime.device=cuda --set train.epochs=1" +
                             " --set train.mixed_precision=bf16 --set runtime.cudnn_benchmark=true";
  const CliRun train = ptqat("train --config " + config + common);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const CliRun ptqat_run = ptqat("quantize --method ptqat --config " + config + common +
                                 " --set finetune.epochs=1 --set finetune.mixed_precision=bf16");
  ASSERT_EQ(ptqat_run.exit_code, 0) << ptqat_run.output;
  EXPECT_TRUE(contains(ptqat_run.output, "fine-tune")) << ptqat_run.output;
  // Every stage recorded its own peak GPU memory.
  for (const results::RunRecord& record : results::read_results(dir.file("run/results.h5"))) {
    EXPECT_GT(record.peak_device_memory_bytes, 0) << record.stage;
  }
}

TEST(Cli, AMistypedSubcommandOrFlagGetsASuggestion) {
  const std::string config = std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml";
  const std::pair<std::string, std::string> cases[] = {
      {"trian --config " + config, "(did you mean 'train'?)"},
      {"train --confg " + config, "(did you mean '--config'?)"},
      {"sweep " + config + " --dryrun", "(did you mean '--dry-run'?)"},
      {"results exprot x.h5", "(did you mean 'export'?)"},
      {"--log-levl debug config keys", "(did you mean '--log-level'?)"}};
  for (const auto& [arguments, suggestion] : cases) {
    const CliRun run = ptqat(arguments);
    EXPECT_EQ(run.exit_code, exit_code::kUsage) << arguments << ": " << run.output;
    EXPECT_TRUE(contains(run.output, suggestion)) << arguments << ": " << run.output;
    EXPECT_EQ(lines(run.output), 1) << run.output;
  }
  // Nothing close: no guess.
  const CliRun far = ptqat("frobnicate");
  EXPECT_FALSE(contains(far.output, "did you mean")) << far.output;
}

TEST(Cli, EveryCommandTakesItsConfigAsFirstArgumentOrAsConfig) {
  const std::string config = std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml";
  const std::string sweep = std::string(PTQAT_SOURCE_DIR) + "/configs/sweeps/tiny.toml";
  for (const std::string& arguments :
       {"config show " + config, "config show --config " + config, "sweep " + sweep + " --dry-run",
        "sweep --config " + sweep + " --dry-run"}) {
    const CliRun run = ptqat(arguments);
    EXPECT_EQ(run.exit_code, exit_code::kDone) << arguments << ": " << run.output;
  }
  // train reads its config first either way: a missing file is the same one-line error.
  for (const std::string& arguments : {std::string("train /nonexistent/run.toml"),
                                       std::string("train --config /nonexistent/run.toml")}) {
    const CliRun run = ptqat(arguments);
    EXPECT_EQ(run.exit_code, exit_code::kError) << arguments << ": " << run.output;
    EXPECT_TRUE(contains(run.output, "/nonexistent/run.toml: cannot open config file"))
        << run.output;
  }
}

TEST(Cli, ExitCodesAreTheDocumentedSet) {
  // docs/quickstart.md "Exit codes" lists exactly runner/exit_codes.h's set; CLI11's own codes
  // (105, 106, 109) used to reach users where the docs promised 2.
  std::ifstream docs(std::string(PTQAT_SOURCE_DIR) + "/docs/quickstart.md");
  std::set<int> documented;
  bool in_table = false;
  for (std::string line; std::getline(docs, line);) {
    if (line.rfind("### ", 0) == 0) in_table = line == "### Exit codes";
    int code = 0;
    if (in_table && std::sscanf(line.c_str(), "| %d |", &code) == 1) documented.insert(code);
  }
  EXPECT_EQ(documented, (std::set<int>{exit_code::kDone, exit_code::kError, exit_code::kUsage,
                                       exit_code::kInternal, exit_code::kPreempted}));

  // 75: SweepInterruption.PreemptionSignalCheckpointsExitsWith75...; 70 only on a bug.
  EXPECT_EQ(ptqat("--version").exit_code, exit_code::kDone);
  for (const char* bad_input :
       {"config show /nonexistent/run.toml", "results ls /nonexistent/results.h5",
        "data info --dataroot /nonexistent --version v1.0-mini"}) {
    const CliRun run = ptqat(bad_input);
    EXPECT_EQ(run.exit_code, exit_code::kError) << bad_input << ": " << run.output;
    EXPECT_EQ(lines(run.output), 1) << run.output;
    EXPECT_TRUE(contains(run.output, "error: ") && contains(run.output, "/nonexistent"))
        << run.output;
  }
  for (const char* usage :
       {"frobnicate", "train --no-such-flag", "results merge", "data synth --samples many"}) {
    const CliRun run = ptqat(usage);
    EXPECT_EQ(run.exit_code, exit_code::kUsage) << usage << ": " << run.output;
    EXPECT_TRUE(contains(run.output, "error:")) << run.output;
  }
}

}  // namespace ptqat::runner

namespace ptqat::runner {

TEST(Cli, TheDocumentedExitCodesAreTheCodes) {
  // docs/quickstart.md "Exit codes": a table row "| <code> | <meaning> | ..." per code.
  std::ifstream doc(std::string(PTQAT_SOURCE_DIR) + "/docs/quickstart.md");
  ASSERT_TRUE(doc.good());
  std::set<int> documented;
  bool in_section = false;
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind("### ", 0) == 0) in_section = line == "### Exit codes";
    if (!in_section || line.rfind("| ", 0) != 0) continue;
    const std::string cell = line.substr(2, line.find(" |", 2) - 2);
    if (!cell.empty() && std::all_of(cell.begin(), cell.end(), ::isdigit)) {
      documented.insert(std::stoi(cell));
    }
  }
  EXPECT_EQ(documented, (std::set<int>{exit_code::kDone, exit_code::kError, exit_code::kUsage,
                                       exit_code::kInternal, exit_code::kPreempted}));
}

}  // namespace ptqat::runner
