#include <gtest/gtest.h>

#include <filesystem>

#include "core/config_toml.h"
#include "tests/core/example_config.h"
#include "tests/support/temp_dir.h"

namespace ptqat::core {

using testing::ExampleConfig;
using testing::Method;

namespace {

ExampleConfig parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  ExampleConfig config;
  ConfigDocument document = ConfigDocument::from_string(text, "example.toml");
  for (const auto& assignment : overrides) document.apply_override(assignment);
  document.read_into(fields_of(config));
  return config;
}

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse(text, overrides);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace

TEST(Config, ReadsEveryFieldType) {
  const ExampleConfig config = parse(R"(
[data]
nsweeps = 5
point_range = [-10, -10, -3, 10, 10, 1.5]
classes = ["bus"]
[train]
learning_rate = 0.01
flip = false
[quant]
bits = [4, 4]
method = "qat"
)");
  EXPECT_EQ(config.nsweeps, 5);
  EXPECT_EQ(config.point_range, (std::vector<double>{-10, -10, -3, 10, 10, 1.5}));
  EXPECT_EQ(config.classes, (std::vector<std::string>{"bus"}));
  EXPECT_DOUBLE_EQ(config.learning_rate, 0.01);
  EXPECT_FALSE(config.flip);
  EXPECT_EQ(config.bits, (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(config.method, Method::kQat);
  EXPECT_EQ(config.dataroot, "data/nuscenes");  // absent: default kept
}

TEST(Config, UnknownKeyNamesFileLineKeyAndClosestValidKey) {
  const std::string message = error_of("[data]\nnsweps = 3\n");
  EXPECT_EQ(message,
            "example.toml:2: unknown key 'data.nsweps' (closest valid key: 'data.nsweeps')");
}

TEST(Config, UnknownSectionIsAnError) {
  EXPECT_NE(error_of("[dta]\nnsweeps = 3\n").find("unknown key 'dta'"), std::string::npos);
}

TEST(Config, WrongTypeNamesKeyAndExpectedType) {
  EXPECT_EQ(error_of("[data]\nnsweeps = \"ten\"\n"),
            "example.toml:2: data.nsweeps: expected an integer in [1, 20], got a string ('ten')");
  EXPECT_EQ(error_of("[train]\nflip = 1\n"),
            "example.toml:2: train.flip: expected a boolean, got an integer (1)");
}

TEST(Config, OutOfRangeNamesKeyAndAllowedRange) {
  EXPECT_EQ(error_of("[data]\nnsweeps = 25\n"),
            "example.toml:2: data.nsweeps: expected an integer in [1, 20], got 25");
  EXPECT_EQ(error_of("[train]\nlearning_rate = 0.0\n"),
            "example.toml:2: train.learning_rate: expected a number in (0, 1], got 0");
  EXPECT_EQ(error_of("[quant]\nbits = [8, 1]\n"),
            "example.toml:2: quant.bits: expected an integer in [2, 16], got 1");
}

TEST(Config, ChoiceOutsideTheListIsAnError) {
  EXPECT_EQ(error_of("[quant]\nmethod = \"fp16\"\n"),
            "example.toml:2: quant.method: expected one of [ptq, qat, ptqat], got \"fp16\"");
}

TEST(Config, OverridesReplaceFileValuesAndParseTomlValues) {
  const ExampleConfig config =
      parse("[data]\nnsweeps = 5\n", {"data.nsweeps=7", "quant.bits=[2, 3]", "quant.method=ptq",
                                      "data.dataroot=/tmp/v1.0-mini", "train.learning_rate=2e-4"});
  EXPECT_EQ(config.nsweeps, 7);
  EXPECT_EQ(config.bits, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(config.method, Method::kPtq);
  EXPECT_EQ(config.dataroot, "/tmp/v1.0-mini");
  EXPECT_DOUBLE_EQ(config.learning_rate, 2e-4);
}

TEST(Config, BadOverrideNamesTheOverride) {
  EXPECT_EQ(error_of("", {"data.nsweeps=0"}),
            "--set data.nsweeps=0: data.nsweeps: expected an integer in [1, 20], got 0");
  EXPECT_EQ(error_of("", {"data.nsweep=3"}),
            "--set data.nsweep=3: unknown key 'data.nsweep' (closest valid key: 'data.nsweeps')");
  EXPECT_NE(error_of("", {"nsweeps"}).find("expected key=value"), std::string::npos);
}

TEST(Config, InvalidTomlNamesFileAndLine) {
  EXPECT_NE(error_of("[data]\nnsweeps = = 3\n").find("example.toml:2: invalid TOML"),
            std::string::npos);
}

TEST(Config, MissingFileIsAConfigError) {
  EXPECT_THROW(load_config<ExampleConfig>("/nonexistent/ptqat.toml"), ConfigError);
}

TEST(Config, ResolvedTomlRoundTrips) {
  ExampleConfig original = parse("[data]\nnsweeps = 3\n[quant]\nmethod = \"qat\"\n");
  original.point_range = {-1.5, -2, -3, 4, 5, 6.25};
  const std::string text = to_toml(fields_of(original));
  const ExampleConfig reread = parse(text);
  EXPECT_EQ(to_toml(fields_of(const_cast<ExampleConfig&>(reread))), text);
  EXPECT_EQ(reread.nsweeps, 3);
  EXPECT_EQ(reread.method, Method::kQat);
  EXPECT_EQ(reread.point_range, original.point_range);
}

TEST(Config, LoadConfigReadsAFileWithOverrides) {
  ptqat::testing::TempDir dir;
  ptqat::testing::write_text(dir.path() / "run.toml", "[data]\nnsweeps = 4\n");
  const auto config = load_config<ExampleConfig>(dir.file("run.toml"), {"runtime.threads=2"});
  EXPECT_EQ(config.nsweeps, 4);
  EXPECT_EQ(config.threads, 2);
}

TEST(Config, BaseConfigsMergeInOrderAndTheFileWins) {
  ptqat::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "bases");
  ptqat::testing::write_text(dir.path() / "bases" / "data.toml",
                             "[data]\nnsweeps = 3\nclasses = [\"car\", \"bus\"]\n"
                             "[train]\nlearning_rate = 0.1\n");
  ptqat::testing::write_text(dir.path() / "bases" / "model.toml",
                             "base = \"data.toml\"\n[data]\nnsweeps = 5\n[quant]\nbits = [8, 8]\n");
  ptqat::testing::write_text(
      dir.path() / "run.toml",
      "base = [\"bases/data.toml\", \"bases/model.toml\"]\n[data]\nclasses = [\"truck\"]\n");
  const auto config = load_config<ExampleConfig>(dir.file("run.toml"));
  EXPECT_EQ(config.nsweeps, 5);                                    // the later base wins
  EXPECT_EQ(config.classes, (std::vector<std::string>{"truck"}));  // arrays are replaced
  EXPECT_DOUBLE_EQ(config.learning_rate, 0.1);                     // tables merge key by key
  EXPECT_EQ(config.bits, (std::vector<int64_t>{8, 8}));
}

TEST(Config, ABaseErrorNamesTheFileThatHoldsIt) {
  ptqat::testing::TempDir dir;
  ptqat::testing::write_text(dir.path() / "base.toml", "[data]\n\nnsweps = 3\n");
  ptqat::testing::write_text(dir.path() / "run.toml", "base = \"base.toml\"\n");
  const auto message = [](const std::string& path) {
    try {
      load_config<ExampleConfig>(path);
    } catch (const ConfigError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(
      message(dir.file("run.toml")),
      dir.file("base.toml") + ":3: unknown key 'data.nsweps' (closest valid key: 'data.nsweeps')");
  ptqat::testing::write_text(dir.path() / "loop.toml", "base = \"run2.toml\"\n");
  ptqat::testing::write_text(dir.path() / "run2.toml", "base = \"loop.toml\"\n");
  EXPECT_NE(message(dir.file("run2.toml")).find("'base' includes itself"), std::string::npos)
      << message(dir.file("run2.toml"));
  ptqat::testing::write_text(dir.path() / "number.toml", "base = 3\n");
  EXPECT_EQ(message(dir.file("number.toml")),
            dir.file("number.toml") +
                ":1: base: expected a config path or a list of them, relative to this file");
  ptqat::testing::write_text(dir.path() / "missing.toml", "base = \"nowhere.toml\"\n");
  EXPECT_EQ(message(dir.file("missing.toml")),
            dir.file("nowhere.toml") + ": cannot open config file");
}

TEST(Config, DescribeFieldsListsTypeRangeDefaultStageAndDoc) {
  ExampleConfig config;
  const std::string text = describe_fields(fields_of(config));
  EXPECT_NE(text.find("data.nsweeps = 10\n    int in [1, 20]; stage: float_train; sweeps per "
                      "sample\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("quant.method = \"ptqat\"\n    one of ptq|qat|ptqat; stage: fine_tune"),
            std::string::npos)
      << text;
}

TEST(Config, FieldKeysListsDottedKeys) {
  ExampleConfig config;
  const auto keys = field_keys(fields_of(config));
  EXPECT_EQ(keys.front(), "data.dataroot");
  EXPECT_EQ(keys.back(), "runtime.log_level");
  EXPECT_EQ(keys.size(), 10u);
}

}  // namespace ptqat::core
