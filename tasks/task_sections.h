#pragma once
// The config sections of registered tasks: a task registered with options (tasks/task_registry.h)
// gets the section [<task name>] in every run config, with typed, documented, range-checked
// fields and stage keys like the built-in sections.

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/config.h"
#include "core/error.h"

namespace ptqat::tasks {

/// One task's options, type-erased so RunConfig can hold sections of types it does not know.
class TaskSection {
 public:
  virtual ~TaskSection() = default;
  virtual std::unique_ptr<TaskSection> clone() const = 0;
  virtual void visit(core::ConfigVisitor& v) = 0;
};

/// A task's options struct (default-constructible, with `void visit(core::ConfigVisitor&)`
/// declaring its fields like the built-in config structs) as a TaskSection.
template <class Options>
class OptionsSection final : public TaskSection {
 public:
  std::unique_ptr<TaskSection> clone() const override {
    return std::make_unique<OptionsSection>(*this);
  }
  void visit(core::ConfigVisitor& v) override { options.visit(v); }
  Options options;
};

/// The sections of every registered task that has options, by task name. Copies are deep, so
/// RunConfig stays a value type.
class TaskSections {
 public:
  /// Every registered task's section at its defaults.
  TaskSections();
  TaskSections(const TaskSections& other);
  TaskSections& operator=(const TaskSections& other);
  TaskSections(TaskSections&&) noexcept = default;
  TaskSections& operator=(TaskSections&&) noexcept = default;
  ~TaskSections() = default;

  /// Whether task `name` has a section.
  bool has(const std::string& name) const { return sections_.count(name) != 0; }

  /// Visits each section as [<task name>].
  void visit(core::ConfigVisitor& v);

  /// The options of task `name`; InternalError when it was registered without Options.
  template <class Options>
  const Options& get(const std::string& name) const {
    const auto found = sections_.find(name);
    const auto* section =
        found == sections_.end() ? nullptr : dynamic_cast<const OptionsSection<Options>*>(found->second.get());
    PTQAT_CHECK(section != nullptr, InternalError, "task '{}' has no options of the requested type",
                name);
    return section->options;
  }
  template <class Options>
  Options& get(const std::string& name) {
    return const_cast<Options&>(std::as_const(*this).get<Options>(name));
  }

 private:
  std::map<std::string, std::unique_ptr<TaskSection>> sections_;
};

}  // namespace ptqat::tasks
