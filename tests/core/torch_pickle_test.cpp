// PyTorch checkpoint files: what torch.save writes (mmdetection3d's nesting, OrderedDict state
// dicts with _metadata, shared storages) reads back exactly; what ptqat writes is what
// torch.load reads; broken files are one-line errors.

#include "core/torch_pickle.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <zip.h>

#include <fstream>
#include <map>

#include "core/error.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"
#include "tests/support/torch_checkpoint.h"

namespace ptqat::core {
namespace {

using testing::expect_error;

#define PTQAT_REQUIRE_NUMPY()                                                        \
  if (testing::python_with_numpy().empty()) {                                        \
    GTEST_SKIP() << "python3 with numpy is not installed (Debian: python3-numpy)";   \
  }

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const nlohmann::json kSpec = {
    {"nest", "state_dict"},
    {"tensors",
     {{"conv.weight", {{"shape", {4, 3, 3, 3}}, {"seed", 1}}},
      {"bn.running_var", {{"shape", {4}}, {"seed", 2}}},
      {"bn.num_batches_tracked", {{"shape", nlohmann::json::array()}, {"dtype", "int64"}}},
      {"fc.bias", {{"shape", {5}}, {"dtype", "float64"}, {"seed", 3}}}}}};

TEST(TorchPickle, ReadsWhatTorchSaveWritesWithMmdetection3dNesting) {
  PTQAT_REQUIRE_NUMPY();
  testing::TempDir dir;
  const std::string path = dir.file("epoch_20.pth");
  testing::write_torch_checkpoint(kSpec, path);
  const StateDict state = read_torch_state_dict(path);
  const nlohmann::json expected = testing::read_torch_checkpoint(path);
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(state[0].first, "bn.num_batches_tracked");  // file order (the spec's keys, sorted)
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  for (const auto& [name, tensor] : state) {
    const nlohmann::json& want = expected.at(name);
    EXPECT_EQ(tensor.sizes().vec(), want.at("shape").get<std::vector<int64_t>>()) << name;
    EXPECT_NEAR(tensor.to(torch::kFloat64).sum().item<double>(), want.at("sum").get<double>(), 1e-9) << name;
    const auto values = want.at("values").get<std::vector<double>>();
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(tensor.reshape(-1)[static_cast<int64_t>(i)].item<double>(), values[i]) << name;
    }
  }
  EXPECT_EQ(by_name.at("bn.num_batches_tracked").dtype(), torch::kInt64);
  EXPECT_EQ(by_name.at("bn.num_batches_tracked").dim(), 0);
  EXPECT_EQ(by_name.at("fc.bias").dtype(), torch::kFloat64);
}

TEST(TorchPickle, LibTorchsOwnUnpicklerCannotReadAStateDict) {
  // Why read_torch_state_dict is hand-written: torch::pickle_load turns the OrderedDict of a
  // state dict into None. Should a LibTorch fix that, this test says the reader can go.
  PTQAT_REQUIRE_NUMPY();
  testing::TempDir dir;
  nlohmann::json flat = kSpec;
  flat["nest"] = nullptr;
  testing::write_torch_checkpoint(flat, dir.file("flat.pth"));
  bool read_as_dict = false;
  try {
    read_as_dict = torch::pickle_load(file_bytes(dir.file("flat.pth"))).isGenericDict();
  } catch (const c10::Error&) {
  }
  EXPECT_FALSE(read_as_dict);
  EXPECT_EQ(read_torch_state_dict(dir.file("flat.pth")).size(), 4u);
}

TEST(TorchPickle, WhatPtqatWritesTorchLoadReads) {
  PTQAT_REQUIRE_NUMPY();
  testing::TempDir dir;
  torch::manual_seed(0);
  const StateDict state = {{"a.weight", torch::randn({3, 2})},
                           {"a.transposed", torch::randn({2, 3}).t()},  // not contiguous
                           {"b.count", torch::tensor(int64_t{7})},
                           {"c.double", torch::randn({4}, torch::kFloat64)}};
  write_torch_state_dict(dir.file("out.pth"), state);
  const StateDict back = read_torch_state_dict(dir.file("out.pth"));
  ASSERT_EQ(back.size(), state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    EXPECT_EQ(back[i].first, state[i].first);
    EXPECT_TRUE(torch::equal(back[i].second, state[i].second)) << state[i].first;
  }
  const nlohmann::json loaded = testing::read_torch_checkpoint(dir.file("out.pth"));
  ASSERT_EQ(loaded.size(), 4u);
  EXPECT_EQ(loaded.at("a.transposed").at("shape"), nlohmann::json({3, 2}));
  EXPECT_NEAR(loaded.at("a.transposed").at("sum").get<double>(), state[1].second.sum().item<double>(), 1e-5);
  EXPECT_EQ(loaded.at("b.count").at("values"), nlohmann::json({7.0}));
}

TEST(TorchPickle, BrokenFilesAreOneLineErrorsNamingTheFile) {
  testing::TempDir dir;
  expect_error<IoError>([&] { read_torch_state_dict(dir.file("missing.pth")); },
                        {"missing.pth", "cannot open PyTorch checkpoint"});
  testing::write_text(dir.path() / "legacy.pth", "\x80\x02\x8a\x0alegacy pickle");
  expect_error<DataError>([&] { read_torch_state_dict(dir.file("legacy.pth")); },
                          {"legacy.pth", "expected a PyTorch checkpoint (torch.save's zip format"});

  // A zip archive with a truncated pickle, and one whose storage record is missing.
  const auto zip_with = [&](const std::string& name, const std::string& pickle) {
    int code = 0;
    zip_t* archive = zip_open(dir.file(name).c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    ASSERT_NE(archive, nullptr);
    zip_source_t* source = zip_source_buffer(archive, pickle.data(), pickle.size(), 0);
    ASSERT_GE(zip_file_add(archive, "archive/data.pkl", source, 0), 0);
    ASSERT_EQ(zip_close(archive), 0);
  };
  zip_with("truncated.pth", std::string("\x80\x02}q\x00(X\x05\x00\x00\x00", 10));
  expect_error<DataError>([&] { read_torch_state_dict(dir.file("truncated.pth")); },
                          {"truncated.pth", "the pickle ends early"});
  // A checkpoint whose storage record was lost.
  write_torch_state_dict(dir.file("no_storage.pth"), {{"w", torch::ones({2})}});
  int code = 0;
  zip_t* archive = zip_open(dir.file("no_storage.pth").c_str(), 0, &code);
  ASSERT_NE(archive, nullptr);
  ASSERT_EQ(zip_delete(archive, static_cast<zip_uint64_t>(zip_name_locate(archive, "archive/data/0", 0))), 0);
  ASSERT_EQ(zip_close(archive), 0);
  expect_error<DataError>([&] { read_torch_state_dict(dir.file("no_storage.pth")); },
                          {"no_storage.pth", "no member archive/data/0 for a storage"});
  write_torch_state_dict(dir.file("empty.pth"), {});
  expect_error<DataError>([&] { read_torch_state_dict(dir.file("empty.pth")); },
                          {"empty.pth", "expected a state dict"});
}

}  // namespace
}  // namespace ptqat::core
