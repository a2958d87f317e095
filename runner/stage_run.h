#pragma once
// Note [stage run]: every stage (float training, calibration, fine-tune, evaluation, import)
// starts, records and publishes the same way. StageRun starts the clock and the peak-memory mark
// when the stage begins; at its end, record() fills the record's identity, resolved config,
// labels, metrics and costs, the stage adds what only it knows (layer table, histories), and
// publish() makes the record durable and visible to every rank.

#include <torch/torch.h>

#include <string>

#include "core/resources.h"
#include "core/stage_key.h"
#include "results/results_store.h"
#include "runner/run_config.h"
#include "runner/stage_context.h"
#include "tasks/task.h"

namespace ptqat::runner {

class StageRun {
 public:
  /// Starts a stage now: resets the process's peak-RSS mark (the peak then includes what the
  /// process already holds), starts the clock and notes the start time.
  StageRun();

  /// The record of the stage under `key` (a child of `parent_key`, empty for float training):
  /// identity, resolved config, report labels, `metrics`, wall time and peak memory since the
  /// start, and the parameters of `model` that require grad.
  results::RunRecord record(const RunConfig& config, const std::string& key,
                            const std::string& parent_key, core::Stage stage,
                            const std::string& method, torch::nn::Module& model,
                            const tasks::TaskMetrics& metrics) const;

 private:
  std::string started_at_;  ///< first: resets the peak-RSS mark before the clock starts
  core::Stopwatch stopwatch_;
};

/// Whether stage `key` is recorded under config.output.dir and runtime.force does not ask for a
/// rerun: the stage is then reused, not run (a record is never replaced silently).
bool reuse_recorded(const RunConfig& config, const std::string& key);

/// Rank 0 writes `record` to the store under output.dir and rebuilds its results.h5; the other
/// ranks wait for it (a later stage on any rank may read the record). A key recorded already is
/// refused (results::RecordExists), or with runtime.force kept as a superseded version.
void publish(const StageContext& context, const results::RunRecord& record);

}  // namespace ptqat::runner
