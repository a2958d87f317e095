#include "tests/support/torch_checkpoint.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace ptqat::testing {
namespace {

const std::string kScript = std::string(PTQAT_SOURCE_DIR) + "/tests/support/torch_checkpoint.py";

bool run(const std::string& command) {
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command;
  return status == 0;
}

}  // namespace

std::string python_with_numpy() {
  for (const std::string python : {"/usr/bin/python3", "python3"}) {
    if (std::system((python + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0) return python;
  }
  return "";
}

std::string python_with_torch() { return PTQAT_TORCH_PYTHON; }

void write_torch_checkpoint(const nlohmann::json& spec, const std::string& path) {
  TempDir dir;
  write_text(dir.path() / "spec.json", spec.dump());
  run(python_with_numpy() + " " + kScript + " write " + dir.file("spec.json") + " " + path);
}

namespace {

nlohmann::json read_with(const std::string& python, const std::string& command,
                         const std::string& path) {
  TempDir dir;
  if (!run(python + " " + kScript + " " + command + " " + path + " " + dir.file("out.json"))) {
    return nlohmann::json::object();
  }
  std::ifstream in(dir.file("out.json"));
  return nlohmann::json::parse(in);
}

}  // namespace

nlohmann::json read_torch_checkpoint(const std::string& path) {
  return read_with(python_with_numpy(), "read", path);
}

nlohmann::json read_with_real_torch(const std::string& path) {
  return read_with(python_with_torch(), "torch-read", path);
}

void resave_with_real_torch(const std::string& path, const std::string& out) {
  run(python_with_torch() + " " + kScript + " torch-resave " + path + " " + out);
}

}  // namespace ptqat::testing
