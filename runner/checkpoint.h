#pragma once
// Training checkpoints: everything a training loop needs to continue exactly where it stopped
// (model parameters and buffers, AdamW state and hyper-parameters, counters, random-number
// states), in one LibTorch archive written crash-safely (temporary sibling, fsync, rename).
//
// Note [Exact resume]: a run resumed from a checkpoint produces the same bits as one that never
// stopped, on the same machine and thread count, provided every source of randomness the loop
// draws from is either LibTorch's default CPU generator (saved here) or an engine passed in
// TrainingState::engines. CUDA generators are not saved: CUDA kernels are not bit-reproducible
// anyway unless TrainConfig::deterministic is set, and then the loop should draw on the CPU.

#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>

namespace ptqat::runner {

/// The loop's position and the caller's own state, saved next to the model and optimizer.
struct TrainingState {
  int64_t epoch = 0;          ///< epochs completed
  int64_t global_step = 0;    ///< optimizer steps completed
  int64_t schedule_step = 0;  ///< the lr schedule's next step
  /// Steps of epoch `epoch` already taken: non-zero only in a checkpoint written mid-epoch on
  /// preemption (core/preemption.h); a resume skips that many batches of the epoch.
  int64_t step_in_epoch = 0;
  /// Best evaluation metric so far; NaN while nothing has been evaluated.
  double best_metric = std::numeric_limits<double>::quiet_NaN();
  /// Random engines of the caller (augmentation, sampler shuffling), by name. Stored in the
  /// standard's textual form, which is the same under every standard library.
  std::map<std::string, std::mt19937_64> engines;
  /// Free-form text: stage key, resolved config TOML, git version, ...
  std::map<std::string, std::string> metadata;
  /// Over the attempts so far (a resume continues them, so that a record covers the whole
  /// stage): the metric histories up to this checkpoint, by name, as (step, value) pairs...
  std::map<std::string, std::vector<std::pair<int64_t, double>>> history;
  double train_time_s = 0;  ///< ...the seconds in training steps...
  double wall_time_s = 0;   ///< ...the wall seconds of the stage...
  int64_t attempts = 0;     ///< ...and the attempts that wrote it (the first is 1).
};

/// Writes `model` (parameters and buffers), `optimizer` (per-parameter state and every group's
/// hyper-parameters), `state` and the default CPU generator's state to `path`, replacing any
/// file there only once the new one is complete on disk. Creates the parent folder. Throws
/// IoError naming `path` when it cannot be written.
void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const torch::optim::AdamW& optimizer, const TrainingState& state);

/// A checkpoint of a stage that does not train (calibration): model and state, no optimizer.
/// load_model_weights() and read_checkpoint_state() read it; load_checkpoint() does not.
void save_model_checkpoint(const std::string& path, const torch::nn::Module& model,
                           const TrainingState& state);

/// Restores what save_checkpoint() wrote into `model` and `optimizer` (which must have the same
/// structure: parameter names, shapes, groups) and the default CPU generator, and returns the
/// TrainingState. Throws IoError when `path` does not exist and DataError naming `path` when it
/// is not a complete ptqat checkpoint or does not match the model or optimizer; after an error
/// the model and optimizer may be partly restored and should be discarded.
TrainingState load_checkpoint(const std::string& path, torch::nn::Module& model,
                              torch::optim::AdamW& optimizer);

/// Reads only the TrainingState (counters, metadata): what a checkpoint is, before building the
/// model it belongs to. Errors as load_checkpoint().
TrainingState read_checkpoint_state(const std::string& path);

/// Restores only the model's parameters and buffers (a later stage starting from this one's
/// weights) and returns the TrainingState; the generator and any optimizer are left alone.
/// Errors as load_checkpoint().
TrainingState load_model_weights(const std::string& path, torch::nn::Module& model);

}  // namespace ptqat::runner
