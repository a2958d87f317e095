#include "runner/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>

#include "core/error.h"
#include "runner/lr_schedule.h"
#include "tests/support/expect_error.h"
#include "tests/support/full_disk.h"
#include "tests/support/temp_dir.h"

namespace ptqat::runner {
namespace {

/// Linear -> BatchNorm (buffers) -> dropout (draws from the CPU generator) -> Linear.
struct TinyNetImpl : torch::nn::Module {
  explicit TinyNetImpl(int64_t hidden = 8)
      : fc1(register_module("fc1", torch::nn::Linear(4, hidden))),
        bn(register_module("bn", torch::nn::BatchNorm1d(hidden))),
        fc2(register_module("fc2", torch::nn::Linear(hidden, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    return fc2(torch::dropout(torch::relu(bn(fc1(x))), 0.25, is_training()));
  }
  torch::nn::Linear fc1;
  torch::nn::BatchNorm1d bn;
  torch::nn::Linear fc2;
};
TORCH_MODULE(TinyNet);

TrainConfig tiny_config() {
  TrainConfig config;
  config.lr = 1e-2;
  config.div_factor = 10.0;
  return config;
}

torch::optim::AdamW make_optimizer(TinyNet& model) {
  return torch::optim::AdamW(model->parameters(), adamw_options(tiny_config()));
}

/// Optimizer steps [begin, end) on fresh random batches from the default CPU generator.
void train_steps(TinyNet& model, torch::optim::AdamW& optimizer, const LrSchedule& schedule,
                 int64_t begin, int64_t end) {
  model->train();
  for (int64_t step = begin; step < end; ++step) {
    const torch::Tensor x = torch::randn({16, 4});
    const torch::Tensor y = torch::randn({16, 1});
    schedule.apply(optimizer, step);
    optimizer.zero_grad();
    torch::mse_loss(model->forward(x), y).backward();
    optimizer.step();
  }
}

std::vector<torch::Tensor> snapshot(const TinyNet& model) {
  std::vector<torch::Tensor> tensors;
  for (const auto& p : model->parameters()) tensors.push_back(p.detach().clone());
  for (const auto& b : model->buffers()) tensors.push_back(b.clone());
  return tensors;
}

void expect_bit_identical(const std::vector<torch::Tensor>& a,
                          const std::vector<torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].scalar_type(), b[i].scalar_type()) << i;
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "tensor " << i;
  }
}

struct AdamWSnapshot {
  std::vector<torch::Tensor> exp_avg, exp_avg_sq;
  std::vector<int64_t> step;
  double lr, beta1, beta2, weight_decay;
};

// The key of a parameter's optimizer state: its TensorImpl's address printed (LibTorch 1.13), or
// the address itself (2.x).
template <class Key>
Key optimizer_state_key(const torch::Tensor& parameter) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream address;
    address << parameter.unsafeGetTensorImpl();
    return address.str();
  } else {
    return parameter.unsafeGetTensorImpl();
  }
}

AdamWSnapshot snapshot(torch::optim::AdamW& optimizer) {
  using StateKey = std::decay_t<decltype(optimizer.state())>::key_type;
  AdamWSnapshot result;
  for (const auto& p : optimizer.param_groups()[0].params()) {
    const auto& state = static_cast<const torch::optim::AdamWParamState&>(
        *optimizer.state().at(optimizer_state_key<StateKey>(p)));
    result.exp_avg.push_back(state.exp_avg().clone());
    result.exp_avg_sq.push_back(state.exp_avg_sq().clone());
    result.step.push_back(state.step());
  }
  const auto& options =
      static_cast<const torch::optim::AdamWOptions&>(optimizer.param_groups()[0].options());
  std::tie(result.beta1, result.beta2) = options.betas();
  result.lr = options.lr();
  result.weight_decay = options.weight_decay();
  return result;
}

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    threads_ = torch::get_num_threads();
    torch::set_num_threads(1);  // one thread: reductions in a fixed order, bit-reproducible
  }
  void TearDown() override { torch::set_num_threads(threads_); }
  testing::TempDir dir_;
  int threads_ = 1;
};

TEST_F(Checkpoint, RestoresModelOptimizerCountersEnginesAndGeneratorBitIdentically) {
  torch::manual_seed(3);
  TinyNet model;
  auto optimizer = make_optimizer(model);
  const auto schedule = make_schedule(tiny_config(), 20);
  train_steps(model, optimizer, *schedule, 0, 3);

  TrainingState state;
  state.epoch = 2;
  state.global_step = 3;
  state.schedule_step = 3;
  state.best_metric = 0.4217;
  std::mt19937_64 augment(5);
  augment.discard(17);
  state.engines["augment"] = augment;
  state.engines["sampler"] = std::mt19937_64(11);
  state.metadata["stage_key"] = "0123456789abcdef0123456789abcdef";
  state.metadata["config"] = "[train]\nlr = 0.01\nschedule = \"onecycle\"\n";
  state.history = {{"loss", {{1, 2.5}, {2, 1.25}}}, {"val_NDS", {{2, 0.125}}}};
  state.train_time_s = 12.5;
  state.wall_time_s = 20.25;
  state.attempts = 2;

  const std::string path = dir_.file("ckpt/float.pt");  // the folder is created
  const auto model_before = snapshot(model);
  const auto adamw_before = snapshot(optimizer);
  save_checkpoint(path, *model, optimizer, state);
  const torch::Tensor rand_after_save = torch::rand({8});

  // Move everything on: parameters, BatchNorm statistics, AdamW moments and step, lr, beta1.
  train_steps(model, optimizer, *schedule, 3, 6);
  static_cast<torch::optim::AdamWOptions&>(optimizer.param_groups()[0].options()).weight_decay(0.5);

  const TrainingState loaded = load_checkpoint(path, *model, optimizer);
  const torch::Tensor rand_after_load = torch::rand({8});

  expect_bit_identical(snapshot(model), model_before);
  const auto adamw_after = snapshot(optimizer);
  expect_bit_identical(adamw_after.exp_avg, adamw_before.exp_avg);
  expect_bit_identical(adamw_after.exp_avg_sq, adamw_before.exp_avg_sq);
  EXPECT_EQ(adamw_after.step, adamw_before.step);
  EXPECT_EQ(adamw_after.step.front(), 3);
  EXPECT_EQ(adamw_after.lr, adamw_before.lr);
  EXPECT_EQ(adamw_after.beta1, adamw_before.beta1);
  EXPECT_EQ(adamw_after.beta2, adamw_before.beta2);
  EXPECT_EQ(adamw_after.weight_decay, adamw_before.weight_decay);
  EXPECT_TRUE(torch::equal(rand_after_load, rand_after_save));

  EXPECT_EQ(loaded.epoch, 2);
  EXPECT_EQ(loaded.global_step, 3);
  EXPECT_EQ(loaded.schedule_step, 3);
  EXPECT_EQ(loaded.best_metric, 0.4217);
  EXPECT_EQ(loaded.engines.at("augment"), augment);
  EXPECT_EQ(loaded.engines.at("sampler"), std::mt19937_64(11));
  EXPECT_EQ(loaded.metadata, state.metadata);
  EXPECT_EQ(loaded.history, state.history);
  EXPECT_EQ(loaded.train_time_s, 12.5);
  EXPECT_EQ(loaded.wall_time_s, 20.25);
  EXPECT_EQ(loaded.attempts, 2);
  // Only the checkpoint is left in its folder: the temporary was renamed onto it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.file("ckpt")),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(Checkpoint, ResumingGivesTheSameParametersAsNeverStopping) {
  const auto schedule = make_schedule(tiny_config(), 6);

  torch::manual_seed(7);
  TinyNet straight;
  auto straight_optimizer = make_optimizer(straight);
  train_steps(straight, straight_optimizer, *schedule, 0, 6);

  torch::manual_seed(7);
  {
    TinyNet first;
    auto first_optimizer = make_optimizer(first);
    train_steps(first, first_optimizer, *schedule, 0, 3);
    TrainingState state;
    state.global_step = state.schedule_step = 3;
    save_checkpoint(dir_.file("resume.pt"), *first, first_optimizer, state);
  }
  torch::manual_seed(12345);  // a new process would start from another generator state
  TinyNet resumed;            // and other initial weights
  auto resumed_optimizer = make_optimizer(resumed);
  const TrainingState state = load_checkpoint(dir_.file("resume.pt"), *resumed, resumed_optimizer);
  train_steps(resumed, resumed_optimizer, *schedule, state.schedule_step, 6);

  expect_bit_identical(snapshot(resumed), snapshot(straight));
  expect_bit_identical(snapshot(resumed_optimizer).exp_avg, snapshot(straight_optimizer).exp_avg);
}

TEST_F(Checkpoint, LoadingAStateSavedBeforeAnyStepDropsNewerOptimizerState) {
  // LibTorch's Optimizer::load() only adds saved states; a stale one must not survive.
  torch::manual_seed(1);
  TinyNet model;
  auto optimizer = make_optimizer(model);
  save_checkpoint(dir_.file("fresh.pt"), *model, optimizer, {});
  train_steps(model, optimizer, *make_schedule(tiny_config(), 4), 0, 1);
  ASSERT_FALSE(optimizer.state().empty());
  load_checkpoint(dir_.file("fresh.pt"), *model, optimizer);
  EXPECT_TRUE(optimizer.state().empty());
}

TEST_F(Checkpoint, ModelWeightsAloneLeaveTheGeneratorAlone) {
  torch::manual_seed(2);
  TinyNet model;
  auto optimizer = make_optimizer(model);
  save_checkpoint(dir_.file("w.pt"), *model, optimizer, {});
  const auto weights = snapshot(model);

  torch::manual_seed(9);
  TinyNet other;
  const torch::Tensor expected = torch::rand({4});
  torch::manual_seed(9);
  TinyNet other_again;
  load_model_weights(dir_.file("w.pt"), *other_again);
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected));
  expect_bit_identical(snapshot(other_again), weights);
}

TEST_F(Checkpoint, ATruncatedFileIsADataErrorNamingIt) {
  torch::manual_seed(4);
  TinyNet model;
  auto optimizer = make_optimizer(model);
  const std::string path = dir_.file("cut.pt");
  save_checkpoint(path, *model, optimizer, {});
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  testing::expect_error<DataError>([&] { load_checkpoint(path, *model, optimizer); },
                                   {path, "checkpoint"});
  testing::expect_error<DataError>([&] { load_model_weights(path, *model); }, {path});
}

TEST_F(Checkpoint, AFullFileSystemIsAnIoErrorAndTheEarlierCheckpointStays) {
  // A file-size limit stands in for a full disk: writes past it fail (EFBIG) as on ENOSPC.
  // LibTorch's own writer ended the process in std::terminate here (exit 134).
  torch::manual_seed(5);
  TinyNet model(256);  // about 10 KB of weights, 30 KB with the optimizer state
  auto optimizer = make_optimizer(model);
  train_steps(model, optimizer, *make_schedule(tiny_config(), 4), 0, 1);
  const std::string path = dir_.file("full.pt");
  save_checkpoint(path, *model, optimizer, {});
  const std::string before = testing::read_bytes(path);
  EXPECT_EQ(
      testing::outcome_with_full_disk(8192, [&] { save_checkpoint(path, *model, optimizer, {}); }),
      "IoError: " + path + ": cannot write checkpoint: File too large");
  EXPECT_EQ(testing::read_bytes(path), before);
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST_F(Checkpoint, AFlippedByteInATensorIsADataErrorNamingTheFile) {
  // LibTorch's reader skips the zip CRCs: the corrupted weight loaded, and evaluated to another
  // score under exit 0.
  TinyNet model;
  {
    torch::NoGradGuard no_grad;
    model->fc1->weight.fill_(1234.5F);
  }
  const std::string path = dir_.file("flipped.pt");
  save_model_checkpoint(path, *model, {});
  std::string bytes = testing::read_bytes(path);
  const float marker = 1234.5F;
  const size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&marker), sizeof marker));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = static_cast<char>(bytes[at + 1] ^ 0x40);
  testing::write_text(path, bytes);
  TinyNet fresh;
  testing::expect_error<DataError>([&] { load_model_weights(path, *fresh); },
                                   {path, "is corrupt", "CRC"});
}

TEST_F(Checkpoint, AModelWithANonFiniteWeightIsADataErrorNamingTheFileAndTheWeight) {
  // A copy with NaN weights evaluated to NDS 0.0000, exit 0, and replaced the recorded score.
  TinyNet model;
  model->fc1->weight.data()[0][1] = std::numeric_limits<float>::quiet_NaN();
  const std::string path = dir_.file("nan.pt");
  save_model_checkpoint(path, *model, {});
  TinyNet fresh;
  testing::expect_error<DataError>([&] { load_model_weights(path, *fresh); },
                                   {path, "fc1.weight", "NaN"});
  model->fc1->weight.data()[0][1] = std::numeric_limits<float>::infinity();
  save_model_checkpoint(path, *model, {});
  testing::expect_error<DataError>([&] { load_model_weights(path, *fresh); }, {path, "fc1.weight"});
}

TEST_F(Checkpoint, AMissingFileIsAnIoErrorNamingIt) {
  TinyNet model;
  auto optimizer = make_optimizer(model);
  const std::string path = dir_.file("absent.pt");
  testing::expect_error<IoError>([&] { load_checkpoint(path, *model, optimizer); },
                                 {path, "not found"});
}

TEST_F(Checkpoint, AnotherModelShapeIsADataErrorNamingTheTensor) {
  TinyNet model(8);
  auto optimizer = make_optimizer(model);
  const std::string path = dir_.file("eight.pt");
  save_checkpoint(path, *model, optimizer, {});
  TinyNet wider(9);
  testing::expect_error<DataError>([&] { load_model_weights(path, *wider); }, {path, "fc1.weight"});
}

TEST_F(Checkpoint, AFileOfAnotherKindIsADataError) {
  const std::string path = dir_.file("other.pt");
  torch::save(torch::ones({3}), path);
  TinyNet model;
  testing::expect_error<DataError>([&] { load_model_weights(path, *model); },
                                   {path, "not a ptqat checkpoint"});
}

}  // namespace
}  // namespace ptqat::runner
