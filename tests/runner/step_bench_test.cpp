// `ptqat bench step` end to end: runs the real executable (the memory runs are child processes
// of it) on the tiny model and checks the JSON it prints.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace ptqat::runner {

namespace {

struct CommandRun {
  int exit_code;
  std::string out;  // stdout only: stderr (logs) goes to the test's stderr
};

CommandRun ptqat(const std::string& arguments) {
  const std::string command = std::string(PTQAT_EXECUTABLE) + " " + arguments;
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer{};
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

TEST(BenchStep, JsonHasPositiveFiguresAndConsistentRatios) {
  const CommandRun run =
      ptqat("bench step --model tiny-bev --threads 1 --steps 3 --warmup 1 --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const nlohmann::json json = nlohmann::json::parse(run.out);
  for (const char* key :
       {"float_s", "qat_s", "ptqat_s", "float_peak_bytes", "qat_peak_bytes", "ptqat_peak_bytes"}) {
    ASSERT_TRUE(json.contains(key)) << key << " missing: " << run.out;
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
}

TEST(BenchStep, TableNamesEveryVariantAndRatio) {
  const CommandRun run = ptqat("bench step --model tiny-bev --threads 1 --steps 1 --warmup 0");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  for (const char* part : {"float", "qat W4A8", "ptqat 0.5", "qat / float step", "ptqat / qat step",
                           "ptqat / qat peak memory"}) {
    EXPECT_NE(run.out.find(part), std::string::npos) << part << " missing: " << run.out;
  }
}

TEST(BenchStep, UnknownModelIsAUsageError) {
  const CommandRun run = ptqat("bench step --model resnet 2>&1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.out.find("--model"), std::string::npos) << run.out;
}

TEST(BenchStep, HelpListsTheOptionsButNotTheMemoryRun) {
  const CommandRun run = ptqat("bench step --help");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* option : {"--model", "--threads", "--steps", "--warmup", "--json"}) {
    EXPECT_NE(run.out.find(option), std::string::npos) << option;
  }
  EXPECT_EQ(run.out.find("--memory-variant"), std::string::npos) << run.out;
}

}  // namespace ptqat::runner
