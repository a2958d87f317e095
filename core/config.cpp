#include "core/config.h"

namespace ptqat::core {

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::kNone:
      return "none";
    case Stage::kFloatTrain:
      return "float_train";
    case Stage::kCalibrate:
      return "calibrate";
    case Stage::kFineTune:
      return "fine_tune";
    case Stage::kEvaluate:
      return "evaluate";
  }
  PTQAT_ASSERT(false, "unknown stage {}", static_cast<int>(stage));
}

void ConfigVisitor::section(const char* name, const std::function<void()>& body) {
  sections_.emplace_back(name);
  std::string dotted;
  for (const auto& part : sections_) dotted += (dotted.empty() ? "" : ".") + part;
  enter_section(dotted);
  body();
  sections_.pop_back();
}

std::string ConfigVisitor::path(const char* name) const {
  std::string dotted;
  for (const auto& part : sections_) dotted += part + ".";
  return dotted + name;
}

}  // namespace ptqat::core
