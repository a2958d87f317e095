#include "runner/task_plugins.h"

#include "core/config_toml.h"
#include "core/error.h"
#include "runner/run_config.h"

namespace ptqat::runner {

void register_task(tasks::TaskRegistration registration) {
  // The top-level keys and sections of a run config: a task's section must not shadow one.
  RunConfig defaults;
  for (const std::string& key : core::field_keys(core::fields_of(defaults))) {
    PTQAT_CHECK(key.substr(0, key.find('.')) != registration.name ||
                    defaults.task_options.has(registration.name),
                ConfigError, "register_task: task name '{}' is taken by the run config key '{}'",
                registration.name, key);
  }
  tasks::register_task(std::move(registration));
}

}  // namespace ptqat::runner
