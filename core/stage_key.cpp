#include "core/stage_key.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

namespace ptqat::core {

namespace {

std::string canonical_number(double value) {
  if (value == 0.0) return "0";  // -0.0 and 0.0 mean the same
  std::array<char, 64> buffer{};
  const auto [end, status] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  PTQAT_ASSERT(status == std::errc(), "to_chars failed for {}", value);
  return std::string(buffer.data(), end);
}

std::string canonical_string(const std::string& text) { return nlohmann::json(text).dump(); }

/// Collects "key=value" lines for the fields of one stage.
class CanonicalWriter final : public ConfigVisitor {
 public:
  explicit CanonicalWriter(Stage stage) : stage_(stage) {}
  std::vector<std::string> lines;

  void field(const FieldInfo& i, bool& v) override { add(i, v ? "true" : "false"); }
  void field(const FieldInfo& i, int64_t& v, IntRange) override { add(i, std::to_string(v)); }
  void field(const FieldInfo& i, double& v, RealRange) override { add(i, canonical_number(v)); }
  void field(const FieldInfo& i, std::string& v) override { add(i, canonical_string(v)); }
  void field(const FieldInfo& i, std::vector<int64_t>& v, IntRange) override {
    add_list(i, v, [](int64_t x) { return std::to_string(x); });
  }
  void field(const FieldInfo& i, std::vector<double>& v, RealRange) override {
    add_list(i, v, canonical_number);
  }
  void field(const FieldInfo& i, std::vector<std::string>& v) override {
    add_list(i, v, canonical_string);
  }
  void choice(const FieldInfo& i, std::string& v, const std::vector<std::string>&) override {
    add(i, canonical_string(v));
  }

 private:
  void add(const FieldInfo& info, const std::string& value) {
    if (info.stage == stage_) lines.push_back(path(info.name) + "=" + value);
  }
  template <class T, class Format>
  void add_list(const FieldInfo& info, const std::vector<T>& values, Format format) {
    std::string text = "[";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) text += ",";
      text += format(values[i]);
    }
    add(info, text + "]");
  }
  Stage stage_;
};

}  // namespace

std::string canonical_form(const ConfigFields& fields, Stage stage) {
  CanonicalWriter writer(stage);
  fields(writer);
  std::sort(writer.lines.begin(), writer.lines.end());
  std::string text;
  for (const auto& line : writer.lines) text += line + "\n";
  return text;
}

std::string file_content_hash(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  PTQAT_CHECK(file.good(), IoError, "{}: cannot open to hash its contents", path);
  const std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                       &XXH3_freeState);
  PTQAT_CHECK(state && XXH3_128bits_reset(state.get()) == XXH_OK, InternalError,
              "xxhash: cannot start a hash");
  std::vector<char> buffer(1 << 20);
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    XXH3_128bits_update(state.get(), buffer.data(), static_cast<size_t>(file.gcount()));
  }
  PTQAT_CHECK(file.eof(), IoError, "{}: read failed while hashing its contents", path);
  const XXH128_hash_t hash = XXH3_128bits_digest(state.get());
  return fmt::format("{:016x}{:016x}", hash.high64, hash.low64);
}

std::string stage_key(const ConfigFields& fields, Stage stage, const std::string& parent_key) {
  PTQAT_ASSERT(stage != Stage::kNone, "stage_key of Stage::kNone");
  const std::string text =
      fmt::format("ptqat stage key v1\nstage={}\nparent={}\n{}", stage_name(stage), parent_key,
                  canonical_form(fields, stage));
  const XXH128_hash_t hash = XXH3_128bits(text.data(), text.size());
  return fmt::format("{:016x}{:016x}", hash.high64, hash.low64);
}

}  // namespace ptqat::core
