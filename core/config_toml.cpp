#include "core/config_toml.h"

#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/closest_name.h"

namespace ptqat::core {

namespace {

std::string describe(IntRange range) {
  constexpr auto kMin = std::numeric_limits<int64_t>::min();
  constexpr auto kMax = std::numeric_limits<int64_t>::max();
  if (range.min == kMin && range.max == kMax) return "";
  if (range.max == kMax) return fmt::format(" >= {}", range.min);
  if (range.min == kMin) return fmt::format(" <= {}", range.max);
  return fmt::format(" in [{}, {}]", range.min, range.max);
}

std::string describe(RealRange range) {
  const bool low = std::isfinite(range.min), high = std::isfinite(range.max);
  const char* open = range.min_exclusive ? "(" : "[";
  if (low && high) return fmt::format(" in {}{}, {}]", open, range.min, range.max);
  if (low) return fmt::format(" {} {}", range.min_exclusive ? ">" : ">=", range.min);
  if (high) return fmt::format(" <= {}", range.max);
  return "";
}

bool in_range(double value, RealRange range) {
  if (std::isnan(value)) return false;
  const bool above_min = range.min_exclusive ? value > range.min : value >= range.min;
  return above_min && value <= range.max;
}

const char* type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date/time";
  }
}

std::string show(const toml::node& node) {
  std::ostringstream out;
  node.visit([&](const auto& value) { out << value; });
  return out.str();
}

/// Collects every valid field key and section path.
class KeyCollector final : public ConfigVisitor {
 public:
  std::vector<std::string> fields;
  std::set<std::string> sections;

  void field(const FieldInfo& i, bool&) override { add(i); }
  void field(const FieldInfo& i, int64_t&, IntRange) override { add(i); }
  void field(const FieldInfo& i, double&, RealRange) override { add(i); }
  void field(const FieldInfo& i, std::string&) override { add(i); }
  void field(const FieldInfo& i, std::vector<int64_t>&, IntRange) override { add(i); }
  void field(const FieldInfo& i, std::vector<double>&, RealRange) override { add(i); }
  void field(const FieldInfo& i, std::vector<std::string>&) override { add(i); }
  void choice(const FieldInfo& i, std::string&, const std::vector<std::string>&) override {
    add(i);
  }

 protected:
  void enter_section(const std::string& dotted) override { sections.insert(dotted); }

 private:
  void add(const FieldInfo& info) { fields.push_back(path(info.name)); }
};

/// Writes every field into a TOML table.
class TomlWriter final : public ConfigVisitor {
 public:
  toml::table root;

  void field(const FieldInfo& i, bool& v) override { put(i, v); }
  void field(const FieldInfo& i, int64_t& v, IntRange) override { put(i, v); }
  void field(const FieldInfo& i, double& v, RealRange) override { put(i, v); }
  void field(const FieldInfo& i, std::string& v) override { put(i, v); }
  void field(const FieldInfo& i, std::vector<int64_t>& v, IntRange) override { put_array(i, v); }
  void field(const FieldInfo& i, std::vector<double>& v, RealRange) override { put_array(i, v); }
  void field(const FieldInfo& i, std::vector<std::string>& v) override { put_array(i, v); }
  void choice(const FieldInfo& i, std::string& v, const std::vector<std::string>&) override {
    put(i, v);
  }

 private:
  toml::table& table_for(const std::string& dotted) {
    toml::table* table = &root;
    std::string_view rest = dotted;
    for (size_t dot; (dot = rest.find('.')) != std::string_view::npos;
         rest.remove_prefix(dot + 1)) {
      const std::string part(rest.substr(0, dot));
      if (!table->contains(part)) table->insert(part, toml::table{});
      table = (*table)[part].as_table();
    }
    return *table;
  }
  template <class T>
  void put(const FieldInfo& info, const T& value) {
    table_for(path(info.name)).insert_or_assign(info.name, value);
  }
  template <class T>
  void put_array(const FieldInfo& info, const std::vector<T>& values) {
    toml::array array;
    for (const auto& value : values) array.push_back(value);
    table_for(path(info.name)).insert_or_assign(info.name, std::move(array));
  }
};

}  // namespace

struct ConfigDocument::Impl {
  toml::table table;
  std::string source;
  std::map<std::string, std::string> override_origin;  // dotted key -> "--set key=value"

  std::string where(const std::string& key, const toml::node& node) const {
    if (auto it = override_origin.find(key); it != override_origin.end()) return it->second;
    // A section that only an override created (--set quant.wieght.bits=4 makes quant.wieght).
    if (node.source().begin.line == 0) {
      const auto inside = override_origin.lower_bound(key + ".");
      if (inside != override_origin.end() && inside->first.rfind(key + ".", 0) == 0) {
        return inside->second;
      }
    }
    if (node.source().begin.line == 0) return source;
    // A value a base config brought in is blamed on that file.
    const std::string file = node.source().path ? *node.source().path : source;
    return fmt::format("{}:{}", file, node.source().begin.line);
  }
};

/// Reads values out of the document into fields, checking types and ranges.
class TomlReader final : public ConfigVisitor {
 public:
  explicit TomlReader(const ConfigDocument::Impl& document) : document_(document) {}

  void field(const FieldInfo& info, bool& value) override {
    if (const toml::node* node = find(info)) value = scalar<bool>(info, *node, "a boolean");
  }
  void field(const FieldInfo& info, int64_t& value, IntRange range) override {
    if (const toml::node* node = find(info)) value = integer(info, *node, range);
  }
  void field(const FieldInfo& info, double& value, RealRange range) override {
    if (const toml::node* node = find(info)) value = real(info, *node, range);
  }
  void field(const FieldInfo& info, std::string& value) override {
    if (const toml::node* node = find(info)) value = scalar<std::string>(info, *node, "a string");
  }
  void field(const FieldInfo& info, std::vector<int64_t>& value, IntRange range) override {
    if (const toml::node* node = find(info)) {
      value.clear();
      for (const toml::node& element : array(info, *node, "integers" + describe(range)))
        value.push_back(integer(info, element, range));
    }
  }
  void field(const FieldInfo& info, std::vector<double>& value, RealRange range) override {
    if (const toml::node* node = find(info)) {
      value.clear();
      for (const toml::node& element : array(info, *node, "numbers" + describe(range)))
        value.push_back(real(info, element, range));
    }
  }
  void field(const FieldInfo& info, std::vector<std::string>& value) override {
    if (const toml::node* node = find(info)) {
      value.clear();
      for (const toml::node& element : array(info, *node, "strings"))
        value.push_back(scalar<std::string>(info, element, "a string"));
    }
  }
  void choice(const FieldInfo& info, std::string& value,
              const std::vector<std::string>& choices) override {
    const toml::node* node = find(info);
    if (!node) return;
    const std::string allowed = fmt::format("one of [{}]", fmt::join(choices, ", "));
    std::string text = scalar<std::string>(info, *node, allowed.c_str());
    PTQAT_CHECK(std::find(choices.begin(), choices.end(), text) != choices.end(), ConfigError,
                "{}: {}: expected {}, got \"{}\"", where(info, *node), path(info.name), allowed,
                text);
    value = std::move(text);
  }

 private:
  const toml::node* find(const FieldInfo& info) const {
    return document_.table.at_path(path(info.name)).node();
  }
  std::string where(const FieldInfo& info, const toml::node& node) const {
    return document_.where(path(info.name), node);
  }
  [[noreturn]] void fail(const FieldInfo& info, const toml::node& node,
                         const std::string& expected) const {
    PTQAT_FAIL(ConfigError, "{}: {}: expected {}, got {} ({})", where(info, node), path(info.name),
               expected, type_name(node), show(node));
  }
  template <class T>
  T scalar(const FieldInfo& info, const toml::node& node, const char* expected) const {
    if (auto value = node.value_exact<T>()) return *value;
    fail(info, node, expected);
  }
  int64_t integer(const FieldInfo& info, const toml::node& node, IntRange range) const {
    const std::string expected = "an integer" + describe(range);
    const auto value = node.value_exact<int64_t>();
    if (!value) fail(info, node, expected);
    PTQAT_CHECK(*value >= range.min && *value <= range.max, ConfigError,
                "{}: {}: expected {}, got {}", where(info, node), path(info.name), expected,
                *value);
    return *value;
  }
  double real(const FieldInfo& info, const toml::node& node, RealRange range) const {
    const std::string expected = "a number" + describe(range);
    if (!node.is_number()) fail(info, node, expected);
    const double value = node.is_integer() ? static_cast<double>(*node.value_exact<int64_t>())
                                           : *node.value_exact<double>();
    PTQAT_CHECK(in_range(value, range), ConfigError, "{}: {}: expected {}, got {}",
                where(info, node), path(info.name), expected, value);
    return value;
  }
  const toml::array& array(const FieldInfo& info, const toml::node& node,
                           const std::string& of) const {
    if (const toml::array* values = node.as_array()) return *values;
    fail(info, node, "an array of " + of);
  }

  const ConfigDocument::Impl& document_;
};

ConfigDocument::ConfigDocument(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigDocument::ConfigDocument(ConfigDocument&&) noexcept = default;
ConfigDocument& ConfigDocument::operator=(ConfigDocument&&) noexcept = default;
ConfigDocument::~ConfigDocument() = default;

ConfigDocument ConfigDocument::from_string(std::string_view text, const std::string& source_name) {
  auto impl = std::make_unique<Impl>();
  impl->source = source_name;
  try {
    impl->table = toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    PTQAT_FAIL(ConfigError, "{}:{}: invalid TOML: {}", source_name, error.source().begin.line,
               error.description());
  }
  return ConfigDocument(std::move(impl));
}

namespace {

/// `over` merged into `into`: tables merge key by key, any other value (arrays too) replaces.
/// Nodes are moved, not copied: a copy drops its source, and errors name the file holding a key.
void merge_table(toml::table& into, toml::table&& over) {
  for (auto&& [key, node] : over) {
    toml::table* inner = into[key].as_table();
    if (inner != nullptr && node.is_table()) {
      merge_table(*inner, std::move(*node.as_table()));
    } else {
      node.visit([&, &key = key](auto&& value) { into.insert_or_assign(key, std::move(value)); });
    }
  }
}

/// The table of `path` with its `base` configs merged under it, in order (later wins, the file
/// itself last). `chain` holds the files being read, to refuse a cycle.
toml::table read_with_bases(const std::string& path, std::vector<std::string>& chain) {
  namespace fs = std::filesystem;
  std::error_code error;
  // An ifstream opens a folder too, and reads it as an empty config: the defaults would run.
  PTQAT_CHECK(!fs::is_directory(path, error), ConfigError,
              "{}: expected a TOML config file, got a folder", path);
  const std::string canonical = fs::weakly_canonical(path, error).string();
  PTQAT_CHECK(std::find(chain.begin(), chain.end(), canonical) == chain.end(), ConfigError,
              "{}: 'base' includes itself ({} -> {})", path, fmt::join(chain, " -> "), canonical);
  std::ifstream file(path);
  PTQAT_CHECK(file.good(), ConfigError, "{}: cannot open config file", path);
  std::stringstream text;
  text << file.rdbuf();
  toml::table own;
  try {
    own = toml::parse(text.str(), path);
  } catch (const toml::parse_error& parse) {
    PTQAT_FAIL(ConfigError, "{}:{}: invalid TOML: {}", path, parse.source().begin.line,
               parse.description());
  }
  const toml::node* base = own.get("base");
  if (base == nullptr) return own;
  const auto line = base->source().begin.line;
  std::vector<std::string> bases;
  if (const auto one = base->value_exact<std::string>()) bases.push_back(*one);
  if (const toml::array* list = base->as_array()) {
    for (const toml::node& item : *list) {
      const auto name = item.value_exact<std::string>();
      PTQAT_CHECK(name.has_value(), ConfigError,
                  "{}:{}: base: expected config paths (strings), relative to this file", path,
                  line);
      bases.push_back(*name);
    }
  }
  PTQAT_CHECK(!bases.empty(), ConfigError,
              "{}:{}: base: expected a config path or a list of them, relative to this file", path,
              line);
  chain.push_back(canonical);
  toml::table merged;
  for (const std::string& name : bases) {
    merge_table(merged, read_with_bases((fs::path(path).parent_path() / name).string(), chain));
  }
  chain.pop_back();
  own.erase("base");
  merge_table(merged, std::move(own));
  return merged;
}

}  // namespace

ConfigDocument ConfigDocument::from_file(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->source = path;
  std::vector<std::string> chain;
  impl->table = read_with_bases(path, chain);
  return ConfigDocument(std::move(impl));
}

ConfigDocument ConfigDocument::empty(const std::string& source_name) {
  auto impl = std::make_unique<Impl>();
  impl->source = source_name;
  return ConfigDocument(std::move(impl));
}

const std::string& ConfigDocument::source_name() const { return impl_->source; }

void ConfigDocument::apply_override(const std::string& assignment) {
  const std::string origin = "--set " + assignment;
  const size_t equals = assignment.find('=');
  PTQAT_CHECK(equals != std::string::npos && equals > 0, ConfigError,
              "{}: expected key=value (e.g. --set data.nsweeps=10)", origin);
  const std::string key = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);

  toml::table parsed;
  try {
    parsed = toml::parse("value = " + text);
  } catch (const toml::parse_error&) {
    parsed.insert("value", text);  // not a TOML value: a bare string such as v1.0-mini
  }

  toml::table* table = &impl_->table;
  std::string_view rest = key;
  for (size_t dot; (dot = rest.find('.')) != std::string_view::npos; rest.remove_prefix(dot + 1)) {
    const std::string part(rest.substr(0, dot));
    PTQAT_CHECK(!part.empty(), ConfigError, "{}: empty section name in key '{}'", origin, key);
    if (!table->contains(part)) table->insert(part, toml::table{});
    table = (*table)[part].as_table();
    PTQAT_CHECK(table != nullptr, ConfigError, "{}: '{}' is a value, not a section", origin, part);
  }
  table->insert_or_assign(std::string(rest), *parsed["value"].node());
  impl_->override_origin[key] = origin;
}

void ConfigDocument::read_into(const ConfigFields& fields) const {
  KeyCollector keys;
  fields(keys);
  const std::set<std::string> valid_fields(keys.fields.begin(), keys.fields.end());
  std::set<std::string> valid_keys = valid_fields;
  valid_keys.insert(keys.sections.begin(), keys.sections.end());

  // Every key of the document must be a field or a section of the config.
  std::function<void(const toml::table&, const std::string&)> check_known =
      [&](const toml::table& table, const std::string& prefix) {
        for (const auto& [name, node] : table) {
          const std::string key = prefix + std::string(name.str());
          if (keys.sections.count(key) && node.is_table()) {
            check_known(*node.as_table(), key + ".");
          } else if (!valid_fields.count(key)) {
            PTQAT_FAIL(
                ConfigError, "{}: unknown key '{}' (closest valid key: '{}')",
                impl_->where(key, node), key,
                closest_name(key, std::vector<std::string>(valid_keys.begin(), valid_keys.end())));
          }
        }
      };
  check_known(impl_->table, "");

  TomlReader reader(*impl_);
  fields(reader);
}

std::string to_toml(const ConfigFields& fields) {
  TomlWriter writer;
  fields(writer);
  std::ostringstream out;
  out << writer.root << "\n";
  return out.str();
}

namespace {

/// Lists fields with their type, range, current value, stage and doc.
class FieldDescriber final : public ConfigVisitor {
 public:
  std::string text;

  void field(const FieldInfo& i, bool& v) override { add(i, "bool", v ? "true" : "false"); }
  void field(const FieldInfo& i, int64_t& v, IntRange r) override {
    add(i, "int" + describe(r), std::to_string(v));
  }
  void field(const FieldInfo& i, double& v, RealRange r) override {
    add(i, "float" + describe(r), fmt::format("{}", v));
  }
  void field(const FieldInfo& i, std::string& v) override { add(i, "string", "\"" + v + "\""); }
  void field(const FieldInfo& i, std::vector<int64_t>& v, IntRange r) override {
    add(i, "[int" + describe(r) + "]", fmt::format("[{}]", fmt::join(v, ", ")));
  }
  void field(const FieldInfo& i, std::vector<double>& v, RealRange r) override {
    add(i, "[float" + describe(r) + "]", fmt::format("[{}]", fmt::join(v, ", ")));
  }
  void field(const FieldInfo& i, std::vector<std::string>& v) override {
    add(i, "[string]", fmt::format("[{}]", fmt::join(v, ", ")));
  }
  void choice(const FieldInfo& i, std::string& v, const std::vector<std::string>& c) override {
    add(i, fmt::format("one of {}", fmt::join(c, "|")), "\"" + v + "\"");
  }

 private:
  void add(const FieldInfo& info, const std::string& type, const std::string& value) {
    text += fmt::format("{} = {}\n    {}; stage: {}; {}\n", path(info.name), value, type,
                        stage_name(info.stage), info.doc);
  }
};

}  // namespace

std::string describe_fields(const ConfigFields& fields) {
  FieldDescriber describer;
  fields(describer);
  return describer.text;
}

std::vector<std::string> field_keys(const ConfigFields& fields) {
  KeyCollector keys;
  fields(keys);
  return keys.fields;
}

}  // namespace ptqat::core
