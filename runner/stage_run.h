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

/// Fails now, before any data is read, when the run could not record its results: the records
/// folder under output.dir cannot be created or written, or output's results file is another
/// store's view (results::ResultsStore::check_view).
void check_output(const RunConfig& config);

/// Whether stage `key` is reused rather than run: it is recorded under config.output.dir and
/// current (made from its parents' present contents, results::ResultsStore::is_current), and
/// runtime.force does not ask for a rerun. A record is never replaced silently.
bool reuse_recorded(const RunConfig& config, const std::string& key);

/// When stage `key` is recorded but runs again, says why on `out`: forced, or stale (made from
/// a parent recorded again since). The earlier record is kept as a superseded version.
void say_why_it_runs_again(const RunConfig& config, const std::string& key,
                           const std::string& stage_label, std::ostream& out);

/// The content identity (core::file_content_hash) of `checkpoint`, the result of stage `key`:
/// DataError naming the file when it is not the one `key`'s record was made with (changed after
/// it was recorded, say by an interrupted --force run). Children record it as the content they
/// were made from.
std::string recorded_checkpoint_content(const RunConfig& config, const std::string& key,
                                        const std::string& checkpoint);

/// Rank 0 writes `record` to the store under output.dir, with the content hash of `checkpoint`
/// (the file the stage kept; empty: none), and rebuilds its results.h5; the other ranks wait for
/// it (a later stage on any rank may read the record). When the key is recorded already (the
/// stage ran again on purpose: forced, stale or its checkpoint missing; or a concurrent run of
/// the same stage finished first), the recorded version is kept as a superseded one.
void publish(const StageContext& context, results::RunRecord record, const std::string& checkpoint);

}  // namespace ptqat::runner
