#pragma once
// tasks::Task: the plug-in interface of a perception task (docs/architecture.md: "A task is a
// plug-in"). The runner and the sweeps drive training, quantization and evaluation through it
// and never branch on task names.

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "datasets/batch.h"

namespace ptqat::tasks {

/// The loss of one training step: `total` to back-propagate, and named parts for the logs.
struct StepLoss {
  torch::Tensor total;
  std::map<std::string, torch::Tensor> parts;
};

/// The outcome of an official metric on one split.
struct TaskMetrics {
  /// Scalars under their official names ("mAP", "NDS", "mATE", ..., "mIoU").
  std::map<std::string, double> scalars;
  /// The scalar that selects the best checkpoint (larger is better), e.g. "NDS".
  std::string primary;
  /// Per-class values ("AP", "IoU", ...), each with one value per entry of class_names.
  std::vector<std::string> class_names;
  std::map<std::string, std::vector<double>> per_class;
  /// The metrics JSON the CLI writes with --metrics-json.
  std::string json;
  /// False when the split has no ground truth (e.g. v1.0-test): predictions are exported only.
  bool has_ground_truth = true;
};

/// Where an evaluation writes its predictions (empty: not written).
struct PredictionExport {
  std::string submission_json;  ///< detection: the nuScenes submission file
  std::string directory;        ///< segmentation / occupancy: the challenge folder layout
};

/// One pass over an evaluation split: predictions accumulate batch by batch, then the official
/// metric runs once over the whole split.
class Evaluation {
 public:
  virtual ~Evaluation() = default;
  /// Runs the model (already in eval mode, no grad) on `batch` and keeps its predictions;
  /// samples marked as padding are dropped.
  virtual void add(torch::nn::Module& model, const datasets::Batch& batch) = 0;
  /// Writes the predictions where `output` says and computes the metric. After merge(), the
  /// predictions are in the split's sample order, as one process would have added them.
  virtual TaskMetrics finish(const PredictionExport& output) = 0;

  /// The predictions added so far, as bytes another rank's merge() reads (sharded evaluation:
  /// each rank evaluates its shard, the parts are gathered and merged before finish()).
  virtual std::string serialize() const = 0;
  /// Adds the predictions of serialize()d bytes. DataError for malformed bytes.
  virtual void merge(const std::string& bytes) = 0;
};

/// A perception task: builds its model, turns batches into losses, evaluates.
class Task {
 public:
  virtual ~Task() = default;
  /// A freshly initialised float model built from quantizable layers.
  virtual std::shared_ptr<torch::nn::Module> build_model() const = 0;
  /// The model's forward on a batch, results discarded (calibration, discrepancy).
  virtual void forward(torch::nn::Module& model, const datasets::Batch& batch) const = 0;
  /// The training loss of a batch.
  virtual StepLoss loss(torch::nn::Module& model, const datasets::Batch& batch) const = 0;
  /// Starts an evaluation of the configured evaluation split.
  virtual std::unique_ptr<Evaluation> begin_evaluation() const = 0;
};

}  // namespace ptqat::tasks
