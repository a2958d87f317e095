#include "sweeps/sweep_spec.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::sweeps {
namespace {

using ptqat::testing::TempDir;
using ptqat::testing::write_text;

SweepSpec spec_of(const TempDir& dir, const std::string& text) {
  write_text(dir.path() / "sweeps" / "s.toml", text);
  return load_sweep_spec(dir.file("sweeps/s.toml"));
}

std::string error_of(const TempDir& dir, const std::string& text) {
  try {
    spec_of(dir, text);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

TEST(SweepSpec, ReadsBaseSetAndGridAndExpandsEveryCombinationLastAxisFastest) {
  TempDir dir;
  const SweepSpec spec = spec_of(dir, R"(
base = "../configs/tiny.toml"
ranks_per_run = 2
[set]
train.epochs = 1
[grid]
"quant.method" = ["qat", "ptqat"]
quant.weight.bits = [4, 8]
)");
  EXPECT_EQ(spec.bases, std::vector<std::string>{dir.file("configs/tiny.toml")});
  EXPECT_EQ(spec.ranks_per_run, 2);
  EXPECT_EQ(spec.overrides, std::vector<std::string>{"train.epochs=1"});
  const std::vector<SweepPoint> points = expand_points(spec, {"runtime.threads=1"});
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[1].overrides,
            (std::vector<std::string>{"train.epochs=1", "runtime.threads=1", "quant.method='qat'",
                                      "quant.weight.bits=8"}));
  EXPECT_EQ(points[2].assignments.front().second, "'ptqat'");  // TOML literal string
  EXPECT_EQ(points[3].assignments.back().second, "8");
}

TEST(SweepSpec, GridTablesJoinAndBaseListsAreAnAxis) {
  TempDir dir;
  const SweepSpec spec = spec_of(dir, R"(
base = ["a.toml", "b.toml"]
[[grid]]
"quant.method" = ["qat"]
[[grid]]
"quant.method" = ["ptqat"]
"quant.freeze_ratio" = [0.25, 0.5, 0.75]
)");
  const std::vector<SweepPoint> points = expand_points(spec, {});
  ASSERT_EQ(points.size(), 8u);  // 2 bases x (1 + 3)
  EXPECT_EQ(points[0].base, dir.file("sweeps/a.toml"));
  EXPECT_EQ(points[4].base, dir.file("sweeps/b.toml"));
  EXPECT_EQ(points[3].overrides.back(), "quant.freeze_ratio=0.75");
}

TEST(SweepSpec, WithoutAGridTheBaseIsThePoint) {
  TempDir dir;
  const std::vector<SweepPoint> points = expand_points(spec_of(dir, "base = \"a.toml\"\n"), {});
  ASSERT_EQ(points.size(), 1u);
  EXPECT_TRUE(points[0].overrides.empty());
}

TEST(SweepSpec, BadFilesAreOneLineErrorsNamingTheKey) {
  TempDir dir;
  EXPECT_NE(error_of(dir, "[grid]\n\"seed\" = [0]\n").find("expected 'base'"), std::string::npos);
  EXPECT_NE(error_of(dir, "base = \"a\"\nbogus = 1\n").find("unknown key 'bogus'"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "base = \"a\"\n[grid]\n\"seed\" = []\n")
                .find("'seed' expected a "
                      "non-empty array"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "base = \"a\"\n[grid]\n\"seed\" = 3\n").find("s.toml:3"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "base = \"a\"\n[grid]\n\"seed\" = [[1]]\n").find("table or array"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "base = \"a\"\nranks_per_run = 0\n").find("ranks_per_run"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "base = [").find("s.toml:1"), std::string::npos);
  EXPECT_THROW(load_sweep_spec(dir.file("missing.toml")), ConfigError);
}

TEST(SweepSpec, ACommandLineOverrideOfAGridAxisIsRefused) {
  TempDir dir;
  const SweepSpec spec = spec_of(dir, "base = \"a\"\n[grid]\n\"seed\" = [0, 1]\n");
  try {
    expand_points(spec, {"seed=3"});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("'seed' is an axis of the grid"), std::string::npos);
  }
}

}  // namespace
}  // namespace ptqat::sweeps
