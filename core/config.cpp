#include "core/config.h"

#include "core/enum_names.h"

namespace ptqat::core {

const char* stage_name(Stage stage) {
  static constexpr EnumName<Stage> kNames[] = {{Stage::kNone, "none"},
                                               {Stage::kFloatTrain, "float_train"},
                                               {Stage::kCalibrate, "calibrate"},
                                               {Stage::kFineTune, "fine_tune"},
                                               {Stage::kEvaluate, "evaluate"}};
  return name_of(stage, kNames, "Stage");
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
