#include "runner/task_sections.h"

#include "runner/task_registry.h"

namespace ptqat::runner {

TaskSections::TaskSections() : sections_(registered_task_sections()) {}

TaskSections::TaskSections(const TaskSections& other) {
  for (const auto& [name, section] : other.sections_) sections_[name] = section->clone();
}

TaskSections& TaskSections::operator=(const TaskSections& other) {
  if (this != &other) *this = TaskSections(other);
  return *this;
}

void TaskSections::visit(core::ConfigVisitor& v) {
  for (auto& [name, section] : sections_) {
    v.section(name.c_str(), [&] { section->visit(v); });
  }
}

}  // namespace ptqat::runner
