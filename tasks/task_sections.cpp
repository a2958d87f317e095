#include "tasks/task_sections.h"

#include "tasks/task_registry.h"

namespace ptqat::tasks {

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

}  // namespace ptqat::tasks
