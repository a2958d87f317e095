// Float weights through a name mapping: quantizer state stays ptqat's, every mismatch is listed
// in one error, and nothing is copied unless everything matches.

#include "quant/state_dict_mapping.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "quant/qlinear.h"
#include "quant/with_batch_norm.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::quant {
namespace {

using testing::expect_error;

torch::nn::Sequential small_model() {
  namespace nn = torch::nn;
  return nn::Sequential(
      QConvBn2d(nn::Conv2dOptions(3, 4, 3).bias(false), nn::BatchNorm2dOptions(4)),
      QLinear(nn::LinearOptions(4, 2)));
}

std::vector<std::string> names_of(const StateDict& state) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : state) names.push_back(name);
  return names;
}

TEST(StateDictMapping, FloatStateIsWeightsAndNormsWithoutQuantizerState) {
  auto model = small_model();
  EXPECT_EQ(names_of(float_state(*model)),
            (std::vector<std::string>{"0.conv.weight", "0.bn.weight", "0.bn.bias",
                                      "1.linear.weight", "1.linear.bias", "0.bn.running_mean",
                                      "0.bn.running_var", "0.bn.num_batches_tracked"}));
}

TEST(StateDictMapping, LoadsThroughTheMappingAndWritesBackUnderItsNames) {
  torch::manual_seed(0);
  auto source = small_model();
  auto target = small_model();
  NameMapping mapping;
  for (const auto& [name, tensor] : float_state(*source))
    mapping.names.emplace_back(name, "theirs." + name);
  const StateDict theirs = mapped_float_state(*source, mapping);
  EXPECT_EQ(theirs[0].first, "theirs.0.conv.weight");
  load_float_state(*target, theirs, mapping, "file.pth");
  const StateDict a = float_state(*source), b = float_state(*target);
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  // Without a mapping the names are ptqat's; float64 sources are cast to the model's dtype.
  StateDict doubled = float_state(*source);
  for (auto& [name, tensor] : doubled) {
    if (tensor.is_floating_point()) tensor = tensor.to(torch::kFloat64);
  }
  load_float_state(*target, doubled, {}, "double.pth");
  EXPECT_TRUE(torch::allclose(float_state(*target)[0].second, a[0].second));
}

TEST(StateDictMapping, EveryMismatchIsListedAndNothingIsCopied) {
  auto model = small_model();
  const torch::Tensor before = float_state(*model)[0].second.clone();
  StateDict state = float_state(*model);
  for (auto& [name, tensor] : state) tensor = torch::ones_like(tensor);
  state.erase(state.begin() + 1);                        // 0.bn.weight missing
  state[2].second = torch::ones({3, 4});                 // 1.linear.weight mis-shaped
  state.emplace_back("extra.weight", torch::ones({1}));  // unexpected
  expect_error<DataError>(
      [&] { load_float_state(*model, state, {}, "ckpt.pth"); },
      {"ckpt.pth: expected a tensor for each of the model's 8 float tensors",
       "1 missing: 0.bn.weight", "1 unexpected: extra.weight",
       "1 of another shape: 1.linear.weight is [3, 4], 1.linear.weight expects [2, 4]"});
  EXPECT_TRUE(torch::equal(float_state(*model)[0].second, before));
}

TEST(StateDictMapping, JsonMappingFilesAreChecked) {
  testing::TempDir dir;
  testing::write_text(dir.path() / "map.json", R"({"0.conv.weight": "backbone.0.weight"})");
  const NameMapping mapping = read_name_mapping(dir.file("map.json"));
  ASSERT_EQ(mapping.names.size(), 1u);
  EXPECT_EQ(mapping.names[0].second, "backbone.0.weight");
  testing::write_text(dir.path() / "bad.json", R"({"0.conv.weight": 3})");
  expect_error<DataError>([&] { read_name_mapping(dir.file("bad.json")); },
                          {"bad.json", "key \"0.conv.weight\": expected a string, got 3"});
  expect_error<IoError>([&] { read_name_mapping(dir.file("none.json")); }, {"none.json"});
  // A mapping that leaves a tensor out is an error on load.
  auto model = small_model();
  expect_error<DataError>(
      [&] {
        load_float_state(*model, {{"backbone.0.weight", torch::ones({4, 3, 3, 3})}}, mapping,
                         "m.pth");
      },
      {"7 missing", "0.bn.weight (not in the mapping)"});
}

}  // namespace
}  // namespace ptqat::quant
