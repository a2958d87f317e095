// `ptqat bench step` end to end: runs the real executable (the memory runs are child processes
// of it) on the tiny model and checks the JSON it prints.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/runner/cli_run.h"

namespace ptqat::bench {

namespace {

testing::CliRun ptqat(const std::string& arguments) {
  return testing::ptqat(arguments, /*with_stderr=*/false);
}

}  // namespace

TEST(BenchStep, JsonHasPositiveFiguresAndConsistentRatios) {
  const testing::CliRun run =
      ptqat("bench step --model tiny-bev --threads 1 --steps 3 --warmup 1 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json json = nlohmann::json::parse(run.output);
  for (const char* key :
       {"float_s", "qat_s", "ptqat_s", "float_peak_bytes", "qat_peak_bytes", "ptqat_peak_bytes"}) {
    ASSERT_TRUE(json.contains(key)) << key << " missing: " << run.output;
    ASSERT_TRUE(json[key].is_number()) << key;
    EXPECT_GT(json[key].get<double>(), 0) << key;
  }
  const auto value = [&](const char* key) { return json.at(key).get<double>(); };
  EXPECT_DOUBLE_EQ(value("qat_over_float"), value("qat_s") / value("float_s"));
  EXPECT_DOUBLE_EQ(value("ptqat_over_qat"), value("ptqat_s") / value("qat_s"));
  EXPECT_DOUBLE_EQ(value("ptqat_peak_over_qat"),
                   value("ptqat_peak_bytes") / value("qat_peak_bytes"));
  EXPECT_EQ(json.at("threads").get<int>(), 1);
  EXPECT_EQ(json.at("steps").get<int>(), 3);
  EXPECT_EQ(json.at("model").get<std::string>(), "tiny-bev");
  EXPECT_EQ(json.at("selection").get<std::string>(), "rule");
  EXPECT_LT(value("trainable_params_ptqat"), value("trainable_params_qat"));
  EXPECT_GT(value("trainable_params_ptqat"), 0);
}

TEST(BenchStep, SelectionIsTheRuleOrTheAlternateSet) {
  // tiny-bev: the same layer kinds as bev, small. Both selections freeze half the layers; the
  // rule's set comes from the measured discrepancy, so its trainable count can differ.
  const std::string common = "bench step --model tiny-bev --threads 1 --steps 1 --warmup 0 --json";
  const testing::CliRun alternate = ptqat(common + " --selection alternate");
  ASSERT_EQ(alternate.exit_code, 0) << alternate.output;
  const nlohmann::json json = nlohmann::json::parse(alternate.output);
  EXPECT_EQ(json.at("selection").get<std::string>(), "alternate");
  EXPECT_LT(json.at("trainable_params_ptqat").get<int64_t>(),
            json.at("trainable_params_qat").get<int64_t>());
  const testing::CliRun wrong = ptqat(common + " --selection largest 2>&1");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("--selection"), std::string::npos) << wrong.output;
}

TEST(BenchStep, TableNamesEveryVariantAndRatio) {
  const testing::CliRun run = ptqat("bench step --model tiny-bev --threads 1 --steps 1 --warmup 0");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* part : {"float", "qat W4A8", "ptqat 0.5", "qat / float step", "ptqat / qat step",
                           "ptqat / qat peak memory"}) {
    EXPECT_NE(run.output.find(part), std::string::npos) << part << " missing: " << run.output;
  }
}

TEST(BenchStep, UnknownModelIsAUsageError) {
  const testing::CliRun run = ptqat("bench step --model resnet 2>&1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("--model"), std::string::npos) << run.output;
}

TEST(BenchStep, HelpListsTheOptionsButNotTheMemoryRun) {
  const testing::CliRun run = ptqat("bench step --help");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* option :
       {"--model", "--threads", "--steps", "--warmup", "--selection", "--json"}) {
    EXPECT_NE(run.output.find(option), std::string::npos) << option;
  }
  EXPECT_EQ(run.output.find("--memory-variant"), std::string::npos) << run.output;
}

}  // namespace ptqat::bench
