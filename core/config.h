#pragma once
// Typed configuration: every config struct lists its fields once, in a `visit` member, and
// generic visitors read them from TOML, write them back, and form the canonical text that
// stage keys hash. See docs/configuration.md.
//
//   struct LoaderConfig {
//     int64_t batch_size = 4;
//     void visit(core::ConfigVisitor& v) {
//       v.field({"batch_size", "samples per rank and step", core::Stage::kFloatTrain},
//               batch_size, core::IntRange{1, 1024});
//     }
//   };

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace ptqat::core {

/// The pipeline stage whose result a field changes. A field enters exactly that stage's key;
/// later stages see it through their parent's key. kNone: paths, threads, logging.
enum class Stage { kNone, kFloatTrain, kCalibrate, kFineTune, kEvaluate };

const char* stage_name(Stage stage);

/// What every field declares: its key inside its section, one line of doc, its stage.
struct FieldInfo {
  const char* name;
  const char* doc;
  Stage stage;
};

/// Closed integer range [min, max].
struct IntRange {
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
};

/// Real range [min, max]; with min_exclusive the lower end is open (e.g. a learning rate > 0).
struct RealRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
};

/// Visits the fields of a config struct. Sections nest; `path()` gives dotted keys.
class ConfigVisitor {
 public:
  virtual ~ConfigVisitor() = default;

  /// Runs `body` with `name` pushed on the section path.
  void section(const char* name, const std::function<void()>& body);

  virtual void field(const FieldInfo& info, bool& value) = 0;
  virtual void field(const FieldInfo& info, int64_t& value, IntRange range) = 0;
  virtual void field(const FieldInfo& info, double& value, RealRange range) = 0;
  virtual void field(const FieldInfo& info, std::string& value) = 0;
  virtual void field(const FieldInfo& info, std::vector<int64_t>& value, IntRange range) = 0;
  virtual void field(const FieldInfo& info, std::vector<double>& value, RealRange range) = 0;
  virtual void field(const FieldInfo& info, std::vector<std::string>& value) = 0;
  /// A string restricted to `choices`.
  virtual void choice(const FieldInfo& info, std::string& value,
                      const std::vector<std::string>& choices) = 0;

  /// An enum field stored by name; `names` lists every enumerator with its config spelling.
  template <class Enum>
  void choice(const FieldInfo& info, Enum& value,
              const std::vector<std::pair<Enum, const char*>>& names);

  /// Dotted key of `name` in the current section, e.g. "data.nsweeps".
  std::string path(const char* name) const;

 protected:
  /// Called when a section is entered and left (the reader checks tables there).
  virtual void enter_section(const std::string& /*dotted_path*/) {}

 private:
  std::vector<std::string> sections_;
};

/// A config struct's field list, type-erased: `[&](ConfigVisitor& v) { config.visit(v); }`.
using ConfigFields = std::function<void(ConfigVisitor&)>;

template <class Config>
ConfigFields fields_of(Config& config) {
  return [&config](ConfigVisitor& visitor) { config.visit(visitor); };
}

template <class Enum>
void ConfigVisitor::choice(const FieldInfo& info, Enum& value,
                           const std::vector<std::pair<Enum, const char*>>& names) {
  std::string text;
  std::vector<std::string> allowed;
  for (const auto& [enumerator, name] : names) {
    allowed.emplace_back(name);
    if (enumerator == value) text = name;
  }
  PTQAT_ASSERT(!text.empty(), "enum value of '{}' has no config name", path(info.name));
  choice(info, text, allowed);
  for (const auto& [enumerator, name] : names) {
    if (text == name) value = enumerator;
  }
}

}  // namespace ptqat::core
