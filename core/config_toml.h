#pragma once
// Reading typed configs from TOML files and `--set key=value` overrides, and writing the
// resolved config back as TOML. Every problem is a ConfigError naming the file (and line) or the
// override, the dotted key, and what was expected.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace ptqat::core {

/// A parsed TOML config plus overrides, not yet bound to a struct.
class ConfigDocument {
 public:
  /// Parses `path`; a missing file or a TOML syntax error is a ConfigError naming the file.
  /// `base = "a.toml"` or `base = ["a.toml", "b.toml"]` (paths relative to the file) reads those
  /// configs first, each with its own bases: tables merge key by key, any other value (arrays
  /// too) is replaced, later bases win and the file itself wins over all of them.
  static ConfigDocument from_file(const std::string& path);
  /// Parses `text`; `source_name` stands for the file in messages.
  static ConfigDocument from_string(std::string_view text, const std::string& source_name);
  /// An empty document: every field keeps its default.
  static ConfigDocument empty(const std::string& source_name = "<defaults>");

  ConfigDocument(ConfigDocument&&) noexcept;
  ConfigDocument& operator=(ConfigDocument&&) noexcept;
  ~ConfigDocument();

  /// Applies "a.b=value". The value is read as a TOML value (42, 0.5, true, [1, 2], "text");
  /// anything that is not valid TOML is taken as a bare string (--set data.version=v1.0-mini).
  void apply_override(const std::string& assignment);

  /// Stores every value of the document into the fields. Unknown keys, wrong types and values out
  /// of range are ConfigErrors; fields absent from the document keep their current values.
  void read_into(const ConfigFields& fields) const;

  const std::string& source_name() const;

  struct Impl;  // opaque: keeps toml++ out of this header

 private:
  explicit ConfigDocument(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The resolved config as TOML text (every field, defaults included).
std::string to_toml(const ConfigFields& fields);

/// One line per field: dotted key, type and range, default (current) value, stage, doc.
std::string describe_fields(const ConfigFields& fields);

/// Every valid dotted field key of a config, in visiting order.
std::vector<std::string> field_keys(const ConfigFields& fields);

/// Loads `Config` from a file (or defaults when `path` is empty) with overrides applied.
template <class Config>
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {}) {
  Config config;
  ConfigDocument document =
      path.empty() ? ConfigDocument::empty() : ConfigDocument::from_file(path);
  for (const auto& assignment : overrides) document.apply_override(assignment);
  document.read_into(fields_of(config));
  return config;
}

}  // namespace ptqat::core
