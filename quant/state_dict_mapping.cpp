#include "quant/state_dict_mapping.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "quant/quantizable_layer.h"
#include "quant/quantizer.h"

namespace ptqat::quant {
namespace {

/// At most this many names per list in an error line; the count says how many more.
constexpr size_t kListedNames = 12;

std::string listed(const std::vector<std::string>& names) {
  std::vector<std::string> shown(names.begin(),
                                 names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), kListedNames)));
  std::string text = fmt::format("{}", fmt::join(shown, ", "));
  if (names.size() > kListedNames) text += fmt::format(" and {} more", names.size() - kListedNames);
  return text;
}

/// ptqat name -> the other framework's name.
std::map<std::string, std::string> other_names(const NameMapping& mapping) {
  return {mapping.names.begin(), mapping.names.end()};
}

std::string shape_text(const torch::Tensor& tensor) {
  return fmt::format("[{}]", fmt::join(tensor.sizes(), ", "));
}

}  // namespace

StateDict float_state(torch::nn::Module& model) {
  std::set<std::string> excluded;
  for (const auto& item : model.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    if (dynamic_cast<QuantizerImpl*>(item.value().get()) != nullptr) {
      for (const auto& p : item.value()->named_parameters()) excluded.insert(prefix + p.key());
      for (const auto& b : item.value()->named_buffers()) excluded.insert(prefix + b.key());
    } else if (dynamic_cast<QuantizableLayer*>(item.value().get()) != nullptr) {
      excluded.insert(prefix + "frozen_weight");
      excluded.insert(prefix + "frozen_bias");
    }
  }
  StateDict state;
  for (const auto& p : model.named_parameters()) {
    if (excluded.count(p.key()) == 0) state.emplace_back(p.key(), p.value());
  }
  for (const auto& b : model.named_buffers()) {
    if (excluded.count(b.key()) == 0) state.emplace_back(b.key(), b.value());
  }
  return state;
}

void load_float_state(torch::nn::Module& model, const StateDict& state, const NameMapping& mapping,
                      const std::string& source) {
  const std::map<std::string, std::string> other_name = other_names(mapping);
  std::map<std::string, const torch::Tensor*> sources;
  for (const auto& [name, tensor] : state) sources[name] = &tensor;

  const StateDict targets = float_state(model);
  std::vector<std::string> missing, mismatched;
  std::set<std::string> used;
  std::vector<std::pair<torch::Tensor, const torch::Tensor*>> copies;
  for (const auto& [name, target] : targets) {
    std::string wanted = name;
    if (!mapping.names.empty()) {
      const auto mapped = other_name.find(name);
      if (mapped == other_name.end()) {
        missing.push_back(name + " (not in the mapping)");
        continue;
      }
      wanted = mapped->second;
    }
    const auto found = sources.find(wanted);
    if (found == sources.end()) {
      missing.push_back(wanted);
      continue;
    }
    used.insert(wanted);
    if (found->second->sizes() != target.sizes()) {
      mismatched.push_back(fmt::format("{} is {}, {} expects {}", wanted, shape_text(*found->second),
                                       name, shape_text(target)));
      continue;
    }
    copies.emplace_back(target, found->second);
  }
  std::vector<std::string> unused;
  for (const auto& [name, tensor] : state) {
    if (used.count(name) == 0) unused.push_back(name);
  }
  if (!missing.empty() || !unused.empty() || !mismatched.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty()) parts.push_back(fmt::format("{} missing: {}", missing.size(), listed(missing)));
    if (!unused.empty()) parts.push_back(fmt::format("{} unexpected: {}", unused.size(), listed(unused)));
    if (!mismatched.empty()) {
      parts.push_back(fmt::format("{} of another shape: {}", mismatched.size(), listed(mismatched)));
    }
    PTQAT_FAIL(DataError, "{}: expected a tensor for each of the model's {} float tensors; {}", source,
               targets.size(), fmt::join(parts, "; "));
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, from] : copies) target.copy_(from->to(target.dtype()));
}

StateDict mapped_float_state(torch::nn::Module& model, const NameMapping& mapping) {
  const std::map<std::string, std::string> other_name = other_names(mapping);
  StateDict state;
  for (const auto& [name, tensor] : float_state(model)) {
    const auto mapped = other_name.find(name);
    PTQAT_CHECK(mapping.names.empty() || mapped != other_name.end(), ConfigError,
                "the name mapping has no entry for the model's tensor {}", name);
    state.emplace_back(mapping.names.empty() ? name : mapped->second, tensor.detach());
  }
  return state;
}

NameMapping read_name_mapping(const std::string& path) {
  std::ifstream file(path);
  PTQAT_CHECK(file.good(), IoError, "{}: cannot open the name mapping", path);
  nlohmann::ordered_json json;
  try {
    json = nlohmann::ordered_json::parse(file);
  } catch (const nlohmann::json::exception& error) {
    PTQAT_FAIL(DataError, "{}: expected a JSON name mapping {{\"<ptqat name>\": \"<other name>\"}}: {}",
               path, error.what());
  }
  PTQAT_CHECK(json.is_object(), DataError,
              "{}: expected a JSON object {{\"<ptqat name>\": \"<other name>\"}}", path);
  NameMapping mapping;
  for (const auto& [ours, theirs] : json.items()) {
    PTQAT_CHECK(theirs.is_string(), DataError, "{}: key \"{}\": expected a string, got {}", path,
                ours, theirs.dump());
    mapping.names.emplace_back(ours, theirs.get<std::string>());
  }
  return mapping;
}

}  // namespace ptqat::quant
