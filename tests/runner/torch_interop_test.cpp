// `ptqat export` and `ptqat import` as a user runs them: a trained tiny detector's float weights
// go to a PyTorch file under mmdetection3d's names (what torch.load reads), come back into a new
// output folder as its float model, evaluate identically, and PTQAT starts from them; the
// quantized stage exports its integer layers; bad inputs are one-line errors.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/stage_key.h"
#include "results/results_store.h"
#include "tests/runner/cli_run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/torch_checkpoint.h"

namespace ptqat::runner {
namespace {

const std::string kTiny = std::string(PTQAT_SOURCE_DIR) + "/configs/detection/tiny.toml";

std::string metric_of(const std::string& file, const std::string& name) {
  std::ifstream in(file);
  return nlohmann::json::parse(in).at(name).dump();
}

/// Evaluates the float models of the output folders a/ and b/ of `dir` and expects equal NDS and
/// mAP.
void expect_same_float_metrics(const ptqat::testing::TempDir& dir, const std::string& options) {
  for (const char* folder : {"a", "b"}) {
    const testing::CliRun eval = testing::ptqat(
        "eval --config " + kTiny + options + " --set output.dir=" + dir.file(folder) +
        " --metrics-json " + dir.file(std::string(folder) + ".json"));
    ASSERT_EQ(eval.exit_code, 0) << eval.output;
  }
  EXPECT_EQ(metric_of(dir.file("a.json"), "NDS"), metric_of(dir.file("b.json"), "NDS"));
  EXPECT_EQ(metric_of(dir.file("a.json"), "mAP"), metric_of(dir.file("b.json"), "mAP"));
}

TEST(TorchInterop, ExportImportRoundTripThroughAPyTorchFile) {
  if (ptqat::testing::python_with_numpy().empty())
    GTEST_SKIP() << "python3 with numpy is not installed";
  ptqat::testing::TempDir dir;
  ASSERT_EQ(testing::ptqat("data synth --preset tiny --out " + dir.file("data")).exit_code, 0);
  const std::string common =
      " --set data.dataroot=" + dir.file("data") + " --set runtime.threads=1";
  const testing::CliRun train =
      testing::ptqat("train --config " + kTiny + common + " --set output.dir=" + dir.file("a") +
                     " --set train.epochs=1");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const testing::CliRun calibrate =
      testing::ptqat("quantize --method ptq --config " + kTiny + common +
                     " --set output.dir=" + dir.file("a") + " --set train.epochs=1");
  ASSERT_EQ(calibrate.exit_code, 0) << calibrate.output;
  std::string float_checkpoint, ptq_checkpoint;
  for (const results::RunRecord& record : results::read_results(dir.file("a/results.h5"))) {
    const std::string path = dir.file("a/checkpoints/" + record.key + ".pt");
    (record.stage == "float_train" ? float_checkpoint : ptq_checkpoint) = path;
  }

  const testing::CliRun exported =
      testing::ptqat("export --checkpoint " + float_checkpoint + " --mapping mmdet3d --torch " +
                     dir.file("float.pth") + common);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const nlohmann::json loaded = ptqat::testing::read_torch_checkpoint(dir.file("float.pth"));
  EXPECT_EQ(loaded.count("pts_voxel_encoder.pfn_layers.0.linear.weight"), 1u);
  EXPECT_EQ(loaded.count("pts_bbox_head.task_heads.5.heatmap.1.bias"), 1u);

  const testing::CliRun imported = testing::ptqat(
      "import --config " + kTiny + " --mapping mmdet3d --torch " + dir.file("float.pth") + common +
      " --set output.dir=" + dir.file("b") + " --set train.epochs=1");
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_NE(imported.output.find("imported " + dir.file("float.pth") + " as float model"),
            std::string::npos);

  // The record says where the model came from.
  const results::RunRecord import_record = results::read_results(dir.file("b/results.h5")).at(0);
  EXPECT_EQ(import_record.provenance.at("source"), dir.file("float.pth"));
  EXPECT_EQ(import_record.provenance.at("source_content_hash"),
            core::file_content_hash(dir.file("float.pth")));
  EXPECT_EQ(import_record.provenance.at("mapping"), "mmdet3d");

  // Importing over the recorded model is refused before anything is written.
  const std::string float_key = import_record.key;
  const std::string record_file = dir.file("b/records/" + float_key + ".h5");
  const std::string checkpoint_file = dir.file("b/checkpoints/" + float_key + ".pt");
  const std::string record_bytes = ptqat::testing::read_bytes(record_file),
                    checkpoint_bytes = ptqat::testing::read_bytes(checkpoint_file);
  const testing::CliRun again = testing::ptqat(
      "import --config " + kTiny + " --mapping mmdet3d --torch " + dir.file("float.pth") + common +
      " --set output.dir=" + dir.file("b") + " --set train.epochs=1");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("float model " + float_key + " is recorded"), std::string::npos)
      << again.output;
  EXPECT_NE(again.output.find("--force"), std::string::npos) << again.output;
  EXPECT_EQ(ptqat::testing::read_bytes(record_file), record_bytes);
  EXPECT_EQ(ptqat::testing::read_bytes(checkpoint_file), checkpoint_bytes);

  // The same float model: the same metrics in both folders, and PTQ starts from the import.
  expect_same_float_metrics(dir, common + " --set train.epochs=1");
  const testing::CliRun from_import = testing::ptqat(
      "quantize --method ptqat --config " + kTiny + common + " --set output.dir=" + dir.file("b") +
      " --set train.epochs=1 --set finetune.epochs=1");
  ASSERT_EQ(from_import.exit_code, 0) << from_import.output;

  // The PTQ stage's integer layers.
  const testing::CliRun quantized = testing::ptqat("export --checkpoint " + ptq_checkpoint +
                                                   " --quantized " + dir.file("ptq.h5") + common);
  ASSERT_EQ(quantized.exit_code, 0) << quantized.output;
  EXPECT_GT(std::filesystem::file_size(dir.file("ptq.h5")), 1000u);

  // A checkpoint of another model is refused with the keys that do not fit, and nothing recorded.
  const testing::CliRun wrong =
      testing::ptqat("import --config " + kTiny + " --torch " + dir.file("float.pth") + common +
                     " --set output.dir=" + dir.file("c"));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.output.find("float.pth: expected a tensor for each of the model's"),
            std::string::npos)
      << wrong.output;
  EXPECT_NE(wrong.output.find("unexpected: pts_voxel_encoder"), std::string::npos) << wrong.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("c/results.h5")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("c/checkpoints")));
}

// The same round trip against the real PyTorch of the LibTorch 2.x build (PTQAT_TORCH=pip): what
// ptqat exports loads with torch.load(weights_only=True) to the same tensors, and what torch.save
// writes (mmdetection3d's nesting) imports into a float model that evaluates identically.
TEST(TorchInterop, FilesOfTheRealPyTorchLoadBothWays) {
  if (ptqat::testing::python_with_torch().empty()) {
    GTEST_SKIP() << "no Python with PyTorch configured (PTQAT_TORCH=pip scripts/build.sh sets one)";
  }
  ptqat::testing::TempDir dir;
  ASSERT_EQ(testing::ptqat("data synth --preset tiny --out " + dir.file("data")).exit_code, 0);
  const std::string common =
      " --set data.dataroot=" + dir.file("data") + " --set runtime.threads=1 --set train.epochs=1";
  const testing::CliRun train =
      testing::ptqat("train --config " + kTiny + common + " --set output.dir=" + dir.file("a"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const std::string checkpoint = dir.file(
      "a/checkpoints/" + results::read_results(dir.file("a/results.h5")).at(0).key + ".pt");
  const testing::CliRun exported =
      testing::ptqat("export --checkpoint " + checkpoint + " --mapping mmdet3d --torch " +
                     dir.file("float.pth") + common);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;

  const nlohmann::json by_torch = ptqat::testing::read_with_real_torch(dir.file("float.pth"));
  const nlohmann::json by_stand_in = ptqat::testing::read_torch_checkpoint(dir.file("float.pth"));
  EXPECT_GT(by_torch.size(), 50u);
  EXPECT_EQ(by_torch, by_stand_in);

  ptqat::testing::resave_with_real_torch(dir.file("float.pth"), dir.file("resaved.pth"));
  const testing::CliRun imported =
      testing::ptqat("import --config " + kTiny + " --mapping mmdet3d --torch " +
                     dir.file("resaved.pth") + common + " --set output.dir=" + dir.file("b"));
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  expect_same_float_metrics(dir, common);
}

}  // namespace
}  // namespace ptqat::runner
