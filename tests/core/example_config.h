#pragma once
// A small config shaped like the real ones, for testing the config machinery on its own.

#include <string>
#include <vector>

#include "core/config.h"

namespace ptqat::core::testing {

enum class Method { kPtq, kQat, kPtqat };

struct ExampleConfig {
  std::string dataroot = "data/nuscenes";
  int64_t nsweeps = 10;
  double learning_rate = 1e-3;
  bool flip = true;
  std::vector<double> point_range = {-51.2, -51.2, -5.0, 51.2, 51.2, 3.0};
  std::vector<std::string> classes = {"car", "truck"};
  std::vector<int64_t> bits = {8, 4};
  Method method = Method::kPtqat;
  int64_t threads = 0;
  std::string log_level = "info";

  void visit(ConfigVisitor& v) {
    v.section("data", [&] {
      v.field({"dataroot", "dataset folder", Stage::kNone}, dataroot);
      v.field({"nsweeps", "sweeps per sample", Stage::kFloatTrain}, nsweeps, IntRange{1, 20});
      v.field({"point_range", "xyz min/max", Stage::kFloatTrain}, point_range, RealRange{});
      v.field({"classes", "class names", Stage::kFloatTrain}, classes);
    });
    v.section("train", [&] {
      v.field({"learning_rate", "AdamW lr", Stage::kFloatTrain}, learning_rate,
              RealRange{0.0, 1.0, true});
      v.field({"flip", "random flips", Stage::kFloatTrain}, flip);
    });
    v.section("quant", [&] {
      v.field({"bits", "weight, activation bits", Stage::kCalibrate}, bits, IntRange{2, 16});
      v.choice({"method", "fine-tune method", Stage::kFineTune}, method,
               {{Method::kPtq, "ptq"}, {Method::kQat, "qat"}, {Method::kPtqat, "ptqat"}});
    });
    v.section("runtime", [&] {
      v.field({"threads", "threads", Stage::kNone}, threads, IntRange{0, 1024});
      v.choice({"log_level", "level", Stage::kNone}, log_level, {"debug", "info", "warn"});
    });
  }
};

}  // namespace ptqat::core::testing
