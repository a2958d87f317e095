#include "runner/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <locale>
#include <mutex>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "core/durable_file.h"
#include "core/error.h"
#include "core/zip_archive.h"

namespace ptqat::runner {
namespace {

// Keys of the archive. "format" names the layout, so a later layout can still read this one.
constexpr const char* kFormat = "ptqat-checkpoint-1";
constexpr int64_t kOptionColumns = 6;  // lr, beta1, beta2, eps, weight_decay, amsgrad

/// The first line of a LibTorch error, without the C++ backtrace it carries.
std::string first_line(const c10::Error& error) {
  std::string text = error.what_without_backtrace();
  const size_t end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

c10::IValue string_list(const std::vector<std::string>& values) {
  c10::List<std::string> list;
  for (const auto& value : values) list.push_back(value);
  return c10::IValue(list);
}

std::vector<std::string> read_string_list(torch::serialize::InputArchive& archive,
                                          const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  TORCH_CHECK(value.isList(), "'", key, "' is not a list");
  const c10::List<c10::IValue> list = value.toList();
  std::vector<std::string> strings;
  for (size_t i = 0; i < list.size(); ++i) strings.push_back(list.get(i).toStringRef());
  return strings;
}

torch::Tensor read_tensor(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor tensor;
  archive.read(key, tensor);
  return tensor;
}

/// The default CPU generator's state, read under its mutex as ATen requires.
torch::Tensor cpu_generator_state() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_cpu_generator_state(const torch::Tensor& state) {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

/// AdamW's per-group hyper-parameters as a [groups, kOptionColumns] float64 tensor. LibTorch
/// 1.13's Optimizer::load() reads the saved group options and throws them away (only the
/// per-parameter state is restored), so they are kept here.
torch::Tensor adamw_group_options(const torch::optim::AdamW& optimizer) {
  const auto& groups = optimizer.param_groups();
  torch::Tensor table =
      torch::empty({static_cast<int64_t>(groups.size()), kOptionColumns}, torch::kFloat64);
  auto rows = table.accessor<double, 2>();
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(groups[g].options());
    const auto [beta1, beta2] = options.betas();
    const double values[kOptionColumns] = {options.lr(),
                                           beta1,
                                           beta2,
                                           options.eps(),
                                           options.weight_decay(),
                                           options.amsgrad() ? 1.0 : 0.0};
    for (int64_t c = 0; c < kOptionColumns; ++c) rows[g][c] = values[c];
  }
  return table;
}

void set_adamw_group_options(torch::optim::AdamW& optimizer, const torch::Tensor& table) {
  auto& groups = optimizer.param_groups();
  TORCH_CHECK(table.dim() == 2 && table.size(0) == static_cast<int64_t>(groups.size()) &&
                  table.size(1) == kOptionColumns && table.scalar_type() == torch::kFloat64,
              "optimizer_options has shape ", table.sizes(), ", expected [", groups.size(), ", ",
              kOptionColumns, "]");
  auto rows = table.accessor<double, 2>();
  for (size_t g = 0; g < groups.size(); ++g) {
    auto& options = static_cast<torch::optim::AdamWOptions&>(groups[g].options());
    options.lr(rows[g][0]);
    options.betas(std::make_tuple(rows[g][1], rows[g][2]));
    options.eps(rows[g][3]);
    options.weight_decay(rows[g][4]);
    options.amsgrad(rows[g][5] != 0.0);
  }
}

/// Module::load() replaces each tensor by the saved one whatever its shape, so a checkpoint of
/// a differently sized model would load silently; the shapes and dtypes are compared after.
struct TensorSignature {
  std::vector<int64_t> sizes;
  c10::ScalarType dtype;
};

/// Parameters, then buffers, in the model's order.
std::vector<std::pair<std::string, TensorSignature>> signatures(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, TensorSignature>> result;
  for (const auto& item : model.named_parameters()) {
    result.push_back(
        {"parameter " + item.key(), {item.value().sizes().vec(), item.value().scalar_type()}});
  }
  for (const auto& item : model.named_buffers()) {
    result.push_back(
        {"buffer " + item.key(), {item.value().sizes().vec(), item.value().scalar_type()}});
  }
  return result;
}

void load_model_checked(torch::serialize::InputArchive& archive, torch::nn::Module& model,
                        const std::string& path) {
  const auto expected = signatures(model);
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  // The archive's tensors arrive on the device they were saved from; the model stays where it
  // was built (a CPU-trained float model fine-tuned on a GPU).
  const std::vector<torch::Tensor> parameters = model.parameters();
  model.load(model_archive);
  if (!parameters.empty()) model.to(parameters.front().device());
  const auto loaded = signatures(model);
  for (size_t i = 0; i < loaded.size(); ++i) {
    const TensorSignature& got = loaded[i].second;
    const TensorSignature& want = expected[i].second;
    TORCH_CHECK(got.sizes == want.sizes && got.dtype == want.dtype, loaded[i].first, " is ",
                got.dtype, c10::IntArrayRef(got.sizes), " in the checkpoint, the model has ",
                want.dtype, c10::IntArrayRef(want.sizes));
  }
  // A model with a NaN or inf weight evaluates to a valid-looking, meaningless score.
  torch::NoGradGuard no_grad;
  for (const auto& parameter : model.named_parameters()) {
    PTQAT_CHECK(torch::isfinite(parameter.value()).all().item<bool>(), DataError,
                "{}: weight '{}' holds NaN or infinite values; the model is unusable", path,
                parameter.key());
  }
}

/// Runs `body`, turning LibTorch's errors into a one-line DataError naming `path`.
template <class Body>
auto reading(const std::string& path, Body body) {
  try {
    return body();
  } catch (const c10::Error& error) {
    PTQAT_FAIL(DataError, "{}: not a complete ptqat checkpoint matching this model: {}", path,
               first_line(error));
  }
}

void open_checkpoint(const std::string& path, torch::serialize::InputArchive& archive) {
  PTQAT_CHECK(std::filesystem::is_regular_file(path), IoError, "{}: checkpoint not found", path);
  // LibTorch's reader skips the zip CRCs: a flipped byte in a tensor loads as another model.
  core::check_zip_members(path, "checkpoint", "a ptqat checkpoint (a zip archive)");
  try {
    archive.load_from(path);
  } catch (const c10::Error& error) {
    PTQAT_FAIL(DataError, "{}: not a readable checkpoint (truncated or corrupt?): {}", path,
               first_line(error));
  }
  c10::IValue format;
  PTQAT_CHECK(
      archive.try_read("format", format) && format.isString() && format.toStringRef() == kFormat,
      DataError, "{}: not a ptqat checkpoint (expected format \"{}\")", path, kFormat);
}

TrainingState read_state(torch::serialize::InputArchive& archive, const std::string& path) {
  TrainingState state;
  const torch::Tensor counters = read_tensor(archive, "counters");
  // Three counters before step_in_epoch was added: a checkpoint at an epoch boundary.
  TORCH_CHECK(
      (counters.numel() == 3 || counters.numel() == 4) && counters.scalar_type() == torch::kInt64,
      "counters: expected 4 int64 values");
  state.epoch = counters[0].item<int64_t>();
  state.global_step = counters[1].item<int64_t>();
  state.schedule_step = counters[2].item<int64_t>();
  if (counters.numel() == 4) state.step_in_epoch = counters[3].item<int64_t>();
  state.best_metric = read_tensor(archive, "best_metric").item<double>();

  const auto engine_names = read_string_list(archive, "engine_names");
  const auto engine_states = read_string_list(archive, "engine_states");
  TORCH_CHECK(engine_names.size() == engine_states.size(), "engine lists differ in length");
  for (size_t i = 0; i < engine_names.size(); ++i) {
    std::istringstream in(engine_states[i]);
    in.imbue(std::locale::classic());
    std::mt19937_64 engine;
    in >> engine;
    PTQAT_CHECK(!in.fail(), DataError, "{}: random engine '{}' has an unreadable state", path,
                engine_names[i]);
    state.engines.emplace(engine_names[i], engine);
  }

  const auto keys = read_string_list(archive, "metadata_keys");
  const auto values = read_string_list(archive, "metadata_values");
  TORCH_CHECK(keys.size() == values.size(), "metadata lists differ in length");
  for (size_t i = 0; i < keys.size(); ++i) state.metadata.emplace(keys[i], values[i]);

  c10::IValue attempt;  // absent in checkpoints written before it: one attempt, no history
  if (archive.try_read("attempt_costs", attempt)) {
    const torch::Tensor costs = attempt.toTensor();
    TORCH_CHECK(costs.numel() == 3 && costs.scalar_type() == torch::kFloat64,
                "attempt_costs: expected 3 float64 values");
    state.train_time_s = costs[0].item<double>();
    state.wall_time_s = costs[1].item<double>();
    state.attempts = static_cast<int64_t>(costs[2].item<double>());
    for (const std::string& name : read_string_list(archive, "history_names")) {
      const torch::Tensor steps = read_tensor(archive, "history_steps_" + name);
      const torch::Tensor series = read_tensor(archive, "history_values_" + name);
      TORCH_CHECK(steps.numel() == series.numel() && steps.scalar_type() == torch::kInt64 &&
                      series.scalar_type() == torch::kFloat64,
                  "history '", name, "': steps and values differ");
      auto& pairs = state.history[name];
      const auto step_at = steps.accessor<int64_t, 1>();
      const auto value_at = series.accessor<double, 1>();
      for (int64_t i = 0; i < steps.numel(); ++i) pairs.emplace_back(step_at[i], value_at[i]);
    }
  }
  return state;
}

/// Writes `archive` to `temporary` through a file descriptor this code owns. LibTorch's own file
/// writer throws from its destructor when a write fails, which ends the process in
/// std::terminate on a full disk; here a failed write is remembered, later bytes are dropped,
/// LibTorch finishes normally, and the error is thrown once it is done, naming `path`.
void save_archive(torch::serialize::OutputArchive& archive, const std::string& temporary,
                  const std::string& path) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  PTQAT_CHECK(fd >= 0, IoError, "{}: cannot write checkpoint: {}: {}", path, temporary,
              std::strerror(errno));
  int write_error = 0;
  try {
    archive.save_to([&](const void* data, size_t size) -> size_t {
      if (write_error == 0) {
        write_error = core::write_all(fd, std::string_view(static_cast<const char*>(data), size));
      }
      return size;  // never short: LibTorch would throw, from a destructor at worst
    });
  } catch (const c10::Error& error) {
    ::close(fd);
    std::remove(temporary.c_str());
    PTQAT_FAIL(IoError, "{}: cannot write checkpoint: {}", path, first_line(error));
  }
  if (::close(fd) != 0 && write_error == 0) write_error = errno;
  if (write_error != 0) {
    std::remove(temporary.c_str());
    PTQAT_FAIL(IoError, "{}: cannot write checkpoint: {}", path, std::strerror(write_error));
  }
}

/// save_checkpoint() with an optional optimizer.
void write_checkpoint(const std::string& path, const torch::nn::Module& model,
                      const torch::optim::AdamW* optimizer, const TrainingState& state) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    PTQAT_CHECK(!error, IoError, "{}: cannot create folder {}: {}", path, parent.string(),
                error.message());
  }

  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kFormat)));

  torch::serialize::OutputArchive model_archive(archive.compilation_unit());
  model.save(model_archive);
  archive.write("model", model_archive);

  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive(archive.compilation_unit());
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("optimizer_options", adamw_group_options(*optimizer));
  }

  archive.write("counters", torch::tensor({state.epoch, state.global_step, state.schedule_step,
                                           state.step_in_epoch},
                                          torch::kInt64));
  archive.write("best_metric", torch::tensor(state.best_metric, torch::kFloat64));
  archive.write("cpu_generator", cpu_generator_state());

  std::vector<std::string> names, engine_states, keys, values;
  for (const auto& [name, engine] : state.engines) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << engine;
    names.push_back(name);
    engine_states.push_back(out.str());
  }
  for (const auto& [key, value] : state.metadata) {
    keys.push_back(key);
    values.push_back(value);
  }
  archive.write("engine_names", string_list(names));
  archive.write("engine_states", string_list(engine_states));
  archive.write("metadata_keys", string_list(keys));
  archive.write("metadata_values", string_list(values));
  archive.write("attempt_costs", torch::tensor({state.train_time_s, state.wall_time_s,
                                                static_cast<double>(state.attempts)},
                                               torch::kFloat64));
  std::vector<std::string> history_names;
  for (const auto& [name, pairs] : state.history) {
    history_names.push_back(name);
    std::vector<int64_t> steps;
    std::vector<double> series;
    for (const auto& [step, value] : pairs) {
      steps.push_back(step);
      series.push_back(value);
    }
    archive.write("history_steps_" + name, torch::tensor(steps, torch::kInt64));
    archive.write("history_values_" + name, torch::tensor(series, torch::kFloat64));
  }
  archive.write("history_names", string_list(history_names));

  const std::string temporary = core::temporary_path_for(path);
  save_archive(archive, temporary, path);
  core::publish_file(temporary, path);
}

}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const torch::optim::AdamW& optimizer, const TrainingState& state) {
  write_checkpoint(path, model, &optimizer, state);
}

void save_model_checkpoint(const std::string& path, const torch::nn::Module& model,
                           const TrainingState& state) {
  write_checkpoint(path, model, nullptr, state);
}

TrainingState load_checkpoint(const std::string& path, torch::nn::Module& model,
                              torch::optim::AdamW& optimizer) {
  torch::serialize::InputArchive archive;
  open_checkpoint(path, archive);
  return reading(path, [&] {
    TrainingState state = read_state(archive, path);
    load_model_checked(archive, model, path);

    // Optimizer::load() only adds the saved per-parameter states: a parameter without one in
    // the file (never stepped when saved) would keep this optimizer's stale state.
    optimizer.state().clear();
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    set_adamw_group_options(optimizer, read_tensor(archive, "optimizer_options"));

    set_cpu_generator_state(read_tensor(archive, "cpu_generator"));
    return state;
  });
}

TrainingState read_checkpoint_state(const std::string& path) {
  torch::serialize::InputArchive archive;
  open_checkpoint(path, archive);
  return reading(path, [&] { return read_state(archive, path); });
}

TrainingState load_model_weights(const std::string& path, torch::nn::Module& model) {
  torch::serialize::InputArchive archive;
  open_checkpoint(path, archive);
  return reading(path, [&] {
    TrainingState state = read_state(archive, path);
    load_model_checked(archive, model, path);
    return state;
  });
}

}  // namespace ptqat::runner
