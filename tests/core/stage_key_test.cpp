#include "core/stage_key.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/config_toml.h"
#include "tests/core/example_config.h"
#include "tests/support/temp_dir.h"

namespace ptqat::core {

using testing::ExampleConfig;

namespace {

ExampleConfig parse(const std::string& text) {
  ExampleConfig config;
  ConfigDocument::from_string(text, "key.toml").read_into(fields_of(config));
  return config;
}

std::string key(const std::string& text, Stage stage = Stage::kFloatTrain,
                const std::string& parent = "") {
  ExampleConfig config = parse(text);
  return stage_key(fields_of(config), stage, parent);
}

}  // namespace

TEST(StageKey, CanonicalFormListsOnlyTheStagesFieldsSortedWithPinnedFloats) {
  ExampleConfig config;
  config.learning_rate = 0.1;
  config.point_range = {-0.0, 1e-7, 2.5, 1e21, 3, 4};
  EXPECT_EQ(canonical_form(fields_of(config), Stage::kFloatTrain),
            "data.classes=[\"car\",\"truck\"]\n"
            "data.nsweeps=10\n"
            "data.point_range=[0,1e-07,2.5,1e+21,3,4]\n"
            "train.flip=true\n"
            "train.learning_rate=0.1\n");
  EXPECT_EQ(canonical_form(fields_of(config), Stage::kCalibrate), "quant.bits=[8,4]\n");
}

TEST(StageKey, FileContentHashFollowsTheBytesOnly) {
  ptqat::testing::TempDir dir;
  const auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir.file(name), std::ios::binary) << bytes;
    return dir.file(name);
  };
  const std::string a = file_content_hash(write("a.pt", "weights"));
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(file_content_hash(write("copy.pt", "weights")), a);  // a copy: the same contents
  EXPECT_NE(file_content_hash(write("b.pt", "weightS")), a);
  EXPECT_THROW(file_content_hash(dir.file("missing.pt")), IoError);
}

TEST(StageKey, IsThirtyTwoHexDigits) {
  const std::string k = key("");
  EXPECT_EQ(k.size(), 32u);
  EXPECT_EQ(k.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(StageKey, SameMeaningGivesSameKey) {
  const std::string reference = key("[data]\nnsweeps = 10\n[train]\nlearning_rate = 0.001\n");
  // Defaults omitted, keys reordered, another spelling of the same number.
  EXPECT_EQ(key(""), reference);
  EXPECT_EQ(key("[train]\nlearning_rate = 1e-3\n[data]\nnsweeps = 10\n"), reference);
  EXPECT_EQ(key("[train]\nlearning_rate = 0.0010\n"), reference);
  // An integer spelling of a float field means the same number.
  EXPECT_EQ(key("[data]\npoint_range = [-51.2, -51.2, -5, 51.2, 51.2, 3]\n"), reference);
}

TEST(StageKey, PathsThreadsAndLogLevelNeverChangeAKey) {
  const std::string text =
      "[data]\ndataroot = \"/elsewhere\"\n[runtime]\nthreads = 7\n"
      "log_level = \"debug\"\n";
  for (Stage stage : {Stage::kFloatTrain, Stage::kCalibrate, Stage::kFineTune, Stage::kEvaluate}) {
    EXPECT_EQ(key(text, stage, "p"), key("", stage, "p")) << stage_name(stage);
  }
}

TEST(StageKey, EveryResultChangingFieldChangesItsStagesKey) {
  const std::string base = key("");
  EXPECT_NE(key("[data]\nnsweeps = 9\n"), base);
  EXPECT_NE(key("[data]\nclasses = [\"car\"]\n"), base);
  EXPECT_NE(key("[data]\nclasses = [\"truck\", \"car\"]\n"), base);  // order is meaning
  EXPECT_NE(key("[train]\nlearning_rate = 0.0011\n"), base);
  EXPECT_NE(key("[train]\nflip = false\n"), base);
  EXPECT_NE(key("[quant]\nbits = [4, 4]\n", Stage::kCalibrate), key("", Stage::kCalibrate));
  EXPECT_NE(key("[quant]\nmethod = \"qat\"\n", Stage::kFineTune), key("", Stage::kFineTune));
}

TEST(StageKey, FieldsOfOtherStagesDoNotEnter) {
  EXPECT_EQ(key("[quant]\nbits = [4, 4]\n", Stage::kFloatTrain), key("", Stage::kFloatTrain));
  EXPECT_EQ(key("[data]\nnsweeps = 3\n", Stage::kCalibrate, "parent"),
            key("", Stage::kCalibrate, "parent"));
}

TEST(StageKey, ParentKeyAndStageEnter) {
  EXPECT_NE(key("", Stage::kCalibrate, "a"), key("", Stage::kCalibrate, "b"));
  EXPECT_NE(key("", Stage::kCalibrate, "a"), key("", Stage::kFineTune, "a"));
}

TEST(StageKey, IsStableAcrossBuildsAndMachines) {
  // Pinned: the key of the default example config. The expected digest was computed by
  // `xxhsum -H2` (the xxHash command-line tool, an independent implementation path) over the
  // exact text below, so it changes only if the key format (v1) deliberately changes.
  ExampleConfig config;
  EXPECT_EQ(canonical_form(fields_of(config), Stage::kFloatTrain),
            "data.classes=[\"car\",\"truck\"]\ndata.nsweeps=10\n"
            "data.point_range=[-51.2,-51.2,-5,51.2,51.2,3]\ntrain.flip=true\n"
            "train.learning_rate=0.001\n");
  EXPECT_EQ(stage_key(fields_of(config), Stage::kFloatTrain, ""),
            "15bc56a4036d8bfd52663633778eb404");
}

}  // namespace ptqat::core
