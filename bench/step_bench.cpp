#include "bench/step_bench.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "bench/bev_bench_model.h"
#include "bench/step_bench_spawn.h"
#include "core/collective.h"
#include "core/enum_names.h"
#include "core/error.h"
#include "core/resources.h"
#include "core/runtime_config.h"
#include "quant/calibration.h"
#include "quant/layer_discovery.h"
#include "quant/layer_policy.h"
#include "quant/quant_config.h"
#include "quant/selection.h"

namespace ptqat::bench {

namespace {

constexpr std::array<StepVariant, 3> kVariants = {StepVariant::kFloat, StepVariant::kQat,
                                                  StepVariant::kPtqat};
constexpr core::EnumName<StepVariant> kVariantNames[] = {
    {StepVariant::kFloat, "float"}, {StepVariant::kQat, "qat"}, {StepVariant::kPtqat, "ptqat"}};
constexpr core::EnumName<StepSelection> kSelectionNames[] = {
    {StepSelection::kRule, "rule"}, {StepSelection::kAlternate, "alternate"}};
constexpr uint64_t kSeed = 20240611;
constexpr double kLearningRate = 1e-4;
constexpr int64_t kCalibrationBatches = 1;
constexpr int64_t kMemorySteps = 2;

StepVariant parse_variant(const std::string& name) {
  const std::optional<StepVariant> variant = core::value_of(name, kVariantNames);
  PTQAT_CHECK(variant.has_value(), ConfigError,
              "bench step --memory-variant: expected float, qat or ptqat, got '{}'", name);
  return *variant;
}

StepSelection parse_selection(const std::string& name) {
  const std::optional<StepSelection> selection = core::value_of(name, kSelectionNames);
  PTQAT_CHECK(selection.has_value(), ConfigError,
              "bench step --selection: expected rule or alternate, got '{}'", name);
  return *selection;
}

/// W4 per-channel weights, A8 inputs everywhere (first and last layer too).
quant::QuantConfig w4a8_config() {
  quant::QuantConfig config;
  config.weight.bits = 4;
  config.activation.bits = 8;
  config.first_last = quant::EdgeLayerPolicy::kSame;
  config.calibration_batches = kCalibrationBatches;
  config.validate();
  return config;
}

/// Seconds of the phases of one step.
struct StepTimes {
  double forward = 0;
  double backward = 0;
  double optimizer = 0;
  double total() const { return forward + backward + optimizer; }
};

/// One variant ready to train: model, optimizer, fixed data.
class TrainingRun {
 public:
  TrainingRun(const std::string& model_name, StepVariant variant, StepSelection selection) {
    torch::manual_seed(kSeed);
    model_ = make_step_bench_model(model_name);
    input_ = torch::randn(model_.input_shape);
    target_ = torch::randn(model_.target_shape);
    torch::nn::Module& module = *model_.module;

    // Every variant runs this recording forward, so that each memory run has run the model once
    // (thread pool, allocator) before its baseline.
    std::vector<quant::NamedLayer> layers =
        quant::in_forward_order(quant::find_quantizable_layers(module), [&] {
          const quant::EvalModeGuard eval(module);
          const torch::NoGradGuard no_grad;
          model_.forward(input_);
        });
    if (variant == StepVariant::kFloat) {
      quant::set_mode(layers, quant::LayerMode::kFloat);
    } else {
      prepare_quantized(module, layers, variant, selection);
    }
    module.train();
    trainable_parameters_ = quant::trainable_parameter_count(module);

    std::vector<torch::Tensor> trainable;
    for (const torch::Tensor& parameter : module.parameters()) {
      if (parameter.requires_grad()) trainable.push_back(parameter);
    }
    optimizer_ =
        std::make_unique<torch::optim::AdamW>(trainable, torch::optim::AdamWOptions(kLearningRate));
  }

  int64_t trainable_parameters() const { return trainable_parameters_; }

  /// One training step, timed by phase.
  StepTimes step() {
    StepTimes times;
    core::Stopwatch forward_time;
    optimizer_->zero_grad();
    const torch::Tensor loss = torch::mse_loss(model_.forward(input_), target_);
    times.forward = forward_time.seconds();
    core::Stopwatch backward_time;
    loss.backward();
    times.backward = backward_time.seconds();
    core::Stopwatch optimizer_time;
    optimizer_->step();
    times.optimizer = optimizer_time.seconds();
    const double value = loss.item<double>();
    PTQAT_ASSERT(std::isfinite(value), "bench step: training loss is {}", value);
    return times;
  }

 private:
  void prepare_quantized(torch::nn::Module& module, const std::vector<quant::NamedLayer>& layers,
                         StepVariant variant, StepSelection selection) {
    const quant::QuantConfig config = w4a8_config();
    quant::configure_layers(layers, config);
    core::SingleProcessCollective group;
    const auto forward = [&](int64_t) { model_.forward(input_); };
    quant::calibrate(module, layers, kCalibrationBatches, forward, group);

    quant::DiscrepancyTable table;
    quant::LayerSelection chosen;
    if (selection == StepSelection::kRule) {
      // What the method does: the paper's rule at ratio 0.5 on the measured discrepancy.
      table =
          quant::measure_discrepancy(module, layers, kCalibrationBatches, forward, config, group);
      quant::SelectionOptions options;
      options.method = quant::QuantMethod::kPtqat;
      chosen = quant::select_layers(table, options);
    } else {
      // A fixed set that does not move when quantization numerics change: every other layer in
      // forward order, starting with the first (Note [step benchmark]).
      for (size_t i = 0; i < layers.size(); ++i) {
        quant::LayerDiscrepancy row;
        row.name = layers[i].name;
        row.kind = layers[i].layer->kind();
        row.forward_index = static_cast<int64_t>(i);
        row.parameters = layers[i].layer->parameter_count();
        table.push_back(row);
        chosen.frozen.push_back(i % 2 == 0);
      }
    }
    if (variant != StepVariant::kPtqat) chosen.frozen.assign(layers.size(), false);
    const quant::QuantMethod method =
        variant == StepVariant::kPtqat ? quant::QuantMethod::kPtqat : quant::QuantMethod::kQat;
    quant::apply_selection(module, layers, chosen, method, config.bn_statistics, table);
    quant::set_mode(layers, quant::LayerMode::kQuantize);
  }

  StepBenchModel model_;
  torch::Tensor input_;
  torch::Tensor target_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  int64_t trainable_parameters_ = 0;
};

double median(std::vector<double> values) {
  PTQAT_ASSERT(!values.empty(), "median of no values");
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

/// Median phase times of one variant over the timed steps.
struct VariantFigures {
  int64_t trainable_parameters = 0;
  StepTimes median_step;  ///< Each phase's median.
  double step_s = 0;      ///< Median of the whole step (not the sum of the phase medians).
  int64_t peak_bytes = 0;
  int64_t baseline_bytes = 0;
  std::string peak_method;
};

/// Samples the RSS every millisecond until destroyed: the peak where VmHWM cannot be reset.
class RssSampler {
 public:
  RssSampler() : peak_(core::current_rss_bytes()), thread_([this] { run(); }) {}
  ~RssSampler() {
    stop_ = true;
    thread_.join();
  }
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;
  int64_t peak() const { return peak_; }

 private:
  void run() {
    while (!stop_) {
      peak_ = std::max<int64_t>(peak_, core::current_rss_bytes());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::atomic<int64_t> peak_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Runs the memory run of `variant` in a child process and reads its figures.
void measure_memory(const StepBenchOptions& options, int threads, StepVariant variant,
                    VariantFigures& figures) {
  const char* name = step_variant_name(variant);
  const ChildResult child = run_self({"--log-level", "warn", "bench", "step", "--model",
                                      options.model, "--threads", std::to_string(threads),
                                      "--selection", options.selection, "--memory-variant", name});
  std::string err = child.err;
  std::replace(err.begin(), err.end(), '\n', ' ');
  PTQAT_CHECK(child.succeeded(), Error, "bench step: the memory run of '{}' {}: {}", name,
              child.describe_status(), err.empty() ? "(no stderr)" : err);
  nlohmann::json result;
  try {
    result = nlohmann::json::parse(child.out);
    figures.peak_bytes = result.at("peak_growth_bytes").get<int64_t>();
    figures.baseline_bytes = result.at("baseline_rss_bytes").get<int64_t>();
    figures.peak_method = result.at("peak_method").get<std::string>();
  } catch (const nlohmann::json::exception& error) {
    PTQAT_FAIL(Error,
               "bench step: the memory run of '{}' printed '{}', expected a JSON object "
               "with peak_growth_bytes, baseline_rss_bytes, peak_method ({})",
               name, child.out, error.what());
  }
}

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0.0;
}

void print_table(const StepBenchOptions& options, int threads,
                 const std::array<VariantFigures, 3>& figures, std::ostream& out) {
  constexpr double kMiB = 1 << 20;
  const VariantFigures& fp = figures[0];
  const VariantFigures& qat = figures[1];
  const VariantFigures& ptqat = figures[2];
  constexpr double kMs = 1e3;
  out << fmt::format(
      "training step, model {}, {} thread{}, median of {} steps after {} warm-up, PTQAT "
      "selection: {}\n"
      "variant      step ms  forward ms  backward ms  optimizer ms  peak MiB  trainable\n",
      options.model, threads, threads == 1 ? "" : "s", options.steps, options.warmup,
      options.selection);
  const std::array<const char*, 3> labels = {"float", "qat W4A8", "ptqat 0.5"};
  for (size_t v = 0; v < figures.size(); ++v) {
    const VariantFigures& f = figures[v];
    out << fmt::format("{:<10} {:>9.1f} {:>11.1f} {:>12.1f} {:>13.1f} {:>9.1f} {:>10}\n", labels[v],
                       f.step_s * kMs, f.median_step.forward * kMs, f.median_step.backward * kMs,
                       f.median_step.optimizer * kMs, static_cast<double>(f.peak_bytes) / kMiB,
                       f.trainable_parameters);
  }
  out << fmt::format(
      "qat / float step {:.2f}x, ptqat / qat step {:.2f}x, ptqat / qat peak memory {:.2f}x\n"
      "(peak memory: RSS growth over the set-up model, optimizer and data, {}; a process "
      "per variant)\n",
      ratio(qat.step_s, fp.step_s), ratio(ptqat.step_s, qat.step_s),
      ratio(static_cast<double>(ptqat.peak_bytes), static_cast<double>(qat.peak_bytes)),
      fp.peak_method == "vmhwm" ? "kernel VmHWM" : "RSS sampled every ms");
}

void print_json(const StepBenchOptions& options, int threads,
                const std::array<VariantFigures, 3>& figures, std::ostream& out) {
  nlohmann::json json;
  nlohmann::json phases;
  for (size_t v = 0; v < figures.size(); ++v) {
    const std::string name = step_variant_name(kVariants[v]);
    const VariantFigures& f = figures[v];
    json[name + "_s"] = f.step_s;
    json[name + "_peak_bytes"] = f.peak_bytes;
    phases[name] = {{"forward_s", f.median_step.forward},
                    {"backward_s", f.median_step.backward},
                    {"optimizer_s", f.median_step.optimizer},
                    {"baseline_rss_bytes", f.baseline_bytes}};
  }
  json["qat_over_float"] = ratio(figures[1].step_s, figures[0].step_s);
  json["ptqat_over_qat"] = ratio(figures[2].step_s, figures[1].step_s);
  json["ptqat_peak_over_qat"] =
      ratio(static_cast<double>(figures[2].peak_bytes), static_cast<double>(figures[1].peak_bytes));
  json["selection"] = options.selection;
  json["trainable_params_qat"] = figures[1].trainable_parameters;
  json["trainable_params_ptqat"] = figures[2].trainable_parameters;
  json["threads"] = threads;
  json["steps"] = options.steps;
  json["warmup"] = options.warmup;
  json["model"] = options.model;
  json["peak_method"] = figures[0].peak_method;
  json["phases"] = phases;
  out << json.dump(2) << "\n";
}

}  // namespace

const char* step_variant_name(StepVariant variant) {
  return core::name_of(variant, kVariantNames, "StepVariant");
}

void bench_step(const StepBenchOptions& options, std::ostream& out) {
  PTQAT_CHECK(options.steps >= 1, ConfigError, "bench step --steps: expected >= 1, got {}",
              options.steps);
  PTQAT_CHECK(options.warmup >= 0, ConfigError, "bench step --warmup: expected >= 0, got {}",
              options.warmup);
  const StepSelection selection = parse_selection(options.selection);
  const int threads = core::apply_thread_setting(options.threads);

  std::array<VariantFigures, 3> figures;
  {
    std::vector<std::unique_ptr<TrainingRun>> runs;
    runs.reserve(kVariants.size());
    for (StepVariant variant : kVariants) {
      runs.push_back(std::make_unique<TrainingRun>(options.model, variant, selection));
    }
    for (size_t v = 0; v < runs.size(); ++v) {
      figures[v].trainable_parameters = runs[v]->trainable_parameters();
    }
    // Interleaved: round r runs one step of each variant (Note [step benchmark]).
    std::array<std::array<std::vector<double>, 4>, 3> samples;  // [variant][phase|total]
    for (int64_t round = 0; round < options.warmup + options.steps; ++round) {
      for (size_t v = 0; v < runs.size(); ++v) {
        const StepTimes times = runs[v]->step();
        if (round < options.warmup) continue;
        samples[v][0].push_back(times.forward);
        samples[v][1].push_back(times.backward);
        samples[v][2].push_back(times.optimizer);
        samples[v][3].push_back(times.total());
      }
    }
    for (size_t v = 0; v < runs.size(); ++v) {
      figures[v].median_step = {median(samples[v][0]), median(samples[v][1]),
                                median(samples[v][2])};
      figures[v].step_s = median(samples[v][3]);
    }
  }
  // After the timing process has freed its three models: the children start on an idle machine.
  for (size_t v = 0; v < kVariants.size(); ++v) {
    measure_memory(options, threads, kVariants[v], figures[v]);
  }

  if (options.json) {
    print_json(options, threads, figures, out);
  } else {
    print_table(options, threads, figures, out);
  }
}

void bench_step_memory_run(const StepBenchOptions& options, const std::string& variant,
                           std::ostream& out) {
  // Before any allocation of the run: the RSS then measures live memory (Note [step benchmark]).
  core::make_rss_follow_live_memory();
  core::apply_thread_setting(options.threads);
  TrainingRun run(options.model, parse_variant(variant), parse_selection(options.selection));

  // Baseline: live memory of the set-up run, not freed heap left by the calibration.
  core::release_freed_memory();
  const bool reset = core::reset_peak_rss();
  const int64_t baseline = core::current_rss_bytes();
  int64_t peak = 0;
  if (reset) {
    for (int64_t i = 0; i < kMemorySteps; ++i) run.step();
    peak = core::high_water_rss_bytes();
  } else {
    const RssSampler sampler;
    for (int64_t i = 0; i < kMemorySteps; ++i) run.step();
    peak = sampler.peak();
  }
  const nlohmann::json json = {{"variant", variant},
                               {"peak_growth_bytes", std::max<int64_t>(0, peak - baseline)},
                               {"baseline_rss_bytes", baseline},
                               {"peak_method", reset ? "vmhwm" : "sampled"}};
  out << json.dump() << "\n";
}

}  // namespace ptqat::bench
