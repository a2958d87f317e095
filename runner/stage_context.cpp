#include "runner/stage_context.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/device.h"
#include "core/device_memory.h"
#include "core/error.h"
#include "core/stage_key.h"
#include "datasets/class_balanced_sampling.h"
#include "datasets/loader.h"
#include "datasets/nuscenes/categories.h"
#include "distributed/mpi_communicator.h"
#ifdef PTQAT_WITH_NCCL
#include "distributed/nccl_collective.h"
#endif
#include "distributed/job_group.h"
#include "quant/selection.h"
#include "runner/progress.h"

namespace ptqat::runner {

StageContext::StageContext(RunConfig config, bool with_train_split, core::Collective& group)
    : config_(std::move(config)),
      group_(group),
      device_(core::resolve_device(config_.runtime.device, distributed::job_local_rank())),
      index_(
          std::make_shared<const datasets::NuScenes>(config_.data.dataroot, config_.data.version)),
      eval_set_(index_, config_.data.eval_split, config_.data),
      task_(make_task(config_, index_)) {
  core::apply_thread_setting(config_.runtime.threads, distributed::job_local_size());
  if (device_.is_cuda()) at::globalContext().setBenchmarkCuDNN(config_.runtime.cudnn_benchmark);
  core::reset_peak_device_memory(device_);  // the stage's own peak
  if (config_.train.deterministic) at::globalContext().setDeterministicAlgorithms(true, false);
  torch::manual_seed(static_cast<uint64_t>(config_.seed));
  if (with_train_split && config_.data.cbgs) {
    const std::vector<datasets::Row> rows = index_->split_samples(config_.data.train_split);
    train_set_.emplace(index_, config_.data.train_split, config_.data,
                       datasets::class_balanced_rows(
                           rows, datasets::sample_detection_classes(*index_, rows),
                           datasets::kNumDetectionClasses, static_cast<uint64_t>(config_.seed)));
  } else if (with_train_split) {
    train_set_.emplace(index_, config_.data.train_split, config_.data);
  }
  if (with_train_split && !config_.data.select_split.empty()) {
    select_set_.emplace(index_, config_.data.select_split, config_.data);
    RunConfig selection = config_;
    selection.data.eval_split = config_.data.select_split;
    select_task_ = make_task(selection, index_);
  }
}

const datasets::NuScenesDataset& StageContext::train_set() const {
  PTQAT_ASSERT(train_set_.has_value(), "the stage context was opened without its train split");
  return *train_set_;
}

namespace {

/// A loader that reads `dataset` (its shard `rank` of `ranks`, padded to equal length with
/// samples marked as padding) in order or in the seeded epoch-0 order, never augmenting.
datasets::Loader plain_loader(const datasets::NuScenesDataset& dataset, const RunConfig& config,
                              bool shuffle, int rank = 0, int ranks = 1) {
  datasets::LoaderConfig loader_config = config.loader;
  loader_config.shuffle = shuffle;
  datasets::AugmentConfig no_augment;
  no_augment.enabled = false;
  return datasets::Loader(dataset, loader_config, config.pillars, no_augment, rank, ranks,
                          static_cast<uint64_t>(config.seed));
}

}  // namespace

std::vector<datasets::Batch> StageContext::calibration_batches(int64_t count) const {
  datasets::Loader loader = plain_loader(train_set(), config_, config_.loader.shuffle);
  loader.start_epoch(0);
  std::vector<datasets::Batch> batches;
  while (static_cast<int64_t>(batches.size()) < count) {
    auto batch = loader.next();
    if (!batch) break;
    batches.push_back(batch->to(device_));
  }
  return batches;
}

std::shared_ptr<torch::nn::Module> StageContext::build_model() const {
  std::shared_ptr<torch::nn::Module> model = task_->build_model();
  model->to(device_);
  return model;
}

core::Collective& StageContext::tensor_group() const {
  if (!device_.is_cuda() || group_.world_size() == 1) return group_;
  if (!nccl_group_) {
#ifdef PTQAT_WITH_NCCL
    auto* mpi = dynamic_cast<distributed::MpiCommunicator*>(&group_);
    PTQAT_ASSERT(mpi != nullptr, "a group of {} ranks that is not an MPI communicator",
                 group_.world_size());
    nccl_group_ = std::make_unique<distributed::NcclCollective>(*mpi, device_.index());
#else
    PTQAT_FAIL(DistError,
               "runtime.device: training CUDA tensors on {} ranks needs NCCL, which this build "
               "has not (scripts/build-cuda.sh links the CUDA LibTorch's)",
               group_.world_size());
#endif
  }
  return *nccl_group_;
}

datasets::Batch StageContext::first_eval_batch() const {
  datasets::Loader loader = plain_loader(eval_set_, config_, false);
  loader.start_epoch(0);
  auto batch = loader.next();
  PTQAT_CHECK(batch.has_value(), DataError, "{}: split '{}' has no samples", config_.data.dataroot,
              config_.data.eval_split);
  return batch->to(device_);
}

tasks::TaskMetrics StageContext::evaluate(torch::nn::Module& model,
                                          const tasks::PredictionExport& output) const {
  return evaluate_on(eval_set_, *task_, model, output);
}

tasks::TaskMetrics StageContext::evaluate_for_selection(torch::nn::Module& model) const {
  PTQAT_ASSERT(select_set_.has_value(), "no data.select_split to select on");
  return evaluate_on(*select_set_, *select_task_, model, {});
}

tasks::TaskMetrics StageContext::evaluate_on(const datasets::NuScenesDataset& set,
                                             const tasks::Task& task, torch::nn::Module& model,
                                             const tasks::PredictionExport& output) const {
  // Sharded: each rank runs its shard, the predictions are gathered, and every rank computes
  // the metric on all of them (training decides on the kept checkpoint on every rank alike).
  datasets::Loader loader = plain_loader(set, config_, false, group_.rank(), group_.world_size());
  loader.pin_memory(device_.is_cuda());
  loader.start_epoch(0);
  const bool was_training = model.is_training();
  model.eval();
  auto evaluation = task.begin_evaluation();
  {
    torch::NoGradGuard no_grad;
    ProgressOptions quiet;  // in a log: a line every 30 s and the last, not every 10 %
    quiet.line_percent = 0;
    ProgressReporter progress("evaluation", loader.steps_per_epoch(), group_.rank(), quiet);
    int64_t evaluated = 0;
    // Drops the padding. The copy overlaps the previous batch's kernels (pinned by the loader).
    while (auto batch = loader.next()) {
      evaluation->add(model, batch->to(device_, /*non_blocking=*/true));
      progress.update(++evaluated);
    }
  }
  model.train(was_training);
  if (group_.world_size() > 1) {
    const std::vector<std::string> parts = group_.all_gather_bytes(evaluation->serialize());
    evaluation = task.begin_evaluation();
    for (const std::string& part : parts) evaluation->merge(part);
  }
  return evaluation->finish(writes() ? output : tasks::PredictionExport{});
}

}  // namespace ptqat::runner
