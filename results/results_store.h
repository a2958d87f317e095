#pragma once
// The results store (docs/architecture.md "Results are a database, not a log"; schema in
// docs/results.md). Every finished stage is one record, named by its stage key, in its own HDF5
// file <dir>/records/<key>.h5, written to a temporary sibling and published by fsync + rename
// (core/durable_file.h): HDF5 1.10 has no journal, so no HDF5 file is ever edited in place. The
// sweep's results.h5 is a view consolidated from the records the same way.
//
// Note [record temporaries]: a record is written to "<key>.h5.tmp.<host>.<pid>". A crash leaves
// that file behind; it never looks like a record and is removed when a store is next opened,
// if it is stale: its writer was on this host and is gone, or it has not been touched for an
// hour (a live writer on another node sharing the folder keeps its file meanwhile; writing a
// record takes milliseconds).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace ptqat::results {

/// A metric over training: value i was measured at steps[i] (optimizer step or epoch, as the
/// stage logs it).
struct MetricHistory {
  std::vector<int64_t> steps;
  std::vector<double> values;
};

/// Everything recorded for one finished stage. Plain data; names of metrics, per-class metrics
/// and histories become HDF5 link names, so they are non-empty and hold no '/'; a per-class
/// metric is not called "classes" and a history name does not end in "_step".
/// One row of a stage's per-layer table (quant/discrepancy.h LayerDiscrepancy, as recorded).
struct LayerRow {
  std::string name;
  std::string kind;  ///< quant::layer_kind_name(): "conv2d", "conv_bn2d", "linear", ...
  int64_t forward_index = 0;
  int64_t parameters = 0;
  int64_t weight_bits = 0;
  int64_t input_bits = 0;
  bool keep_float = false;
  bool ranked = true;      ///< false: a policy holds the layer's precision; PTQAT never freezes it
  double discrepancy = 0;  ///< the measure the run's config names
  /// Every measure, by name ("isolated_nmse", "cumulative_cosine", ...); empty in records
  /// written before they existed.
  std::map<std::string, double> measures;
  bool frozen = false;
};

/// What a report groups and labels a run by, written by the runner at record time from the
/// run's config and task, so that reports need neither the config nor task code.
struct RunLabels {
  /// What the record is, as a table row names it: "float", "PTQ", "QAT", "PTQAT 0.5 smallest".
  std::string label;
  /// The stage's name for people: "detection-cnn/w4a8/ptqat-0.50-smallest/seed1"
  /// (runner/stage_keys.h StageNames); "" in records made before names.
  std::string name;
  std::string model;        ///< the task and its BEV encoder: "detection, transformer encoder"
  std::string bits;         ///< "W4A8"
  int64_t weight_bits = 0;  ///< quant.weight.bits; 32 for a float model
  int64_t activation_bits = 0;
  std::string rule;                ///< PTQAT's selection rule: "smallest", "random(3)"
  double freeze_ratio = 0;         ///< PTQAT's freeze ratio
  std::string discrepancy_metric;  ///< "nmse", "mse", "cosine"
  std::string discrepancy_mode;    ///< "isolated", "cumulative"
  int64_t float_seed = 0;          ///< the run's seed: the float model's
  int64_t quant_seed = 0;          ///< quant.seed: the fine-tune's
  int64_t epochs = 0;              ///< of the float model's training schedule
  std::string primary_metric;      ///< the task's primary metric, e.g. "NDS", "mIoU"
  /// Stage keys of the run's config with its seed set to 0: runs that differ only in their seed
  /// share them (one row of a report, statistics over the seeds).
  std::string float_group;
  std::string calibrate_group;
  std::string fine_tune_group;
};

struct RunRecord {
  std::string key;         ///< Stage key (core/stage_key.h); names the record.
  std::string parent_key;  ///< Key of the stage this one continues; empty for float training.
  /// What the stage made, by content: XXH3-128 of the checkpoint it kept (core::file_content_hash);
  /// empty for a stage that keeps none (evaluation) and in records written before it existed.
  std::string content_hash;
  /// The parent's content_hash when this stage ran from it (evaluation: the evaluated
  /// checkpoint's). ResultsStore::is_current() compares the two.
  std::string parent_content_hash;
  std::string stage;   ///< core::stage_name(): "float_train", "calibrate", "fine_tune", ...
  std::string task;    ///< "detection", "segmentation", "occupancy".
  std::string method;  ///< "float", "ptq", "qat", "ptqat", ... as configured.
  std::string config;  ///< The resolved config (defaults filled in) as TOML text.

  std::string ptqat_version;  ///< ptqat::version() of the writer; write() fills it if empty.
  std::string git_revision;   ///< ptqat::git_revision() of the writer; write() fills it if empty.
  std::string started_at;     ///< ISO 8601 UTC (utc_timestamp()) when the stage started.
  std::string finished_at;    ///< ISO 8601 UTC when it finished.

  double wall_time_s = 0;  ///< Wall time of this stage, seconds.
  /// Training stages: seconds in training steps, without evaluation and checkpoint writes.
  double train_time_s = 0;
  /// Attempts the stage took (a resumed stage: its attempts; wall and training time and the
  /// history cover all of them).
  int64_t attempts = 1;
  int64_t peak_host_memory_bytes = 0;    ///< Peak resident set size during the stage.
  int64_t peak_device_memory_bytes = 0;  ///< Peak accelerator memory; 0 on CPU.
  int64_t trainable_parameters = 0;      ///< Weights the stage trained (0 for PTQ, evaluation).

  std::map<std::string, double> metrics;  ///< e.g. "nds", "map", "miou", "loss".
  /// Per-class metrics: per_class[name][i] belongs to class_names[i].
  std::vector<std::string> class_names;
  std::map<std::string, std::vector<double>> per_class;
  /// The per-layer table (calibration: discrepancies; fine-tune: with the frozen mask).
  std::vector<LayerRow> layers;
  /// PTQAT fine-tunes: the Jaccard index of the frozen set with the one each other measure
  /// would have selected, by measure name (quant::frozen_set_overlaps). Empty otherwise.
  std::map<std::string, double> frozen_overlap;
  /// Where a stage's model came from when it was not trained here (`import`: "source",
  /// "source_content_hash", "mapping"). Empty otherwise.
  std::map<std::string, std::string> provenance;
  RunLabels labels;
  std::map<std::string, MetricHistory> history;  ///< e.g. "loss", "val_nds".
};

/// Now, as ISO 8601 UTC with second precision: "2025-03-01T12:34:56Z".
std::string utc_timestamp();

/// How ResultsStore::write treats a key that is recorded already.
enum class Recording {
  kNew,         ///< Refuse: RecordExists, nothing written.
  kNewVersion,  ///< Keep the recorded version as a superseded one, then publish the new one.
};

/// A record of the key exists and Recording::kNew was asked for (the CLI's --force asks for
/// kNewVersion).
class RecordExists : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

/// The records of one sweep (or run) folder. Not thread-safe: HDF5 here is built without its
/// thread-safety option, so one thread per process uses HDF5 at a time. Several processes may
/// write records into one folder at once. A record is never overwritten: a second write of a key
/// is refused, or with Recording::kNewVersion keeps the first as a superseded version
/// (<dir>/superseded/<key>.<n>.h5, n = 1, 2, ...).
class ResultsStore {
 public:
  /// Opens (creating <dir>/records if missing) and removes stale temporaries of crashed writers
  /// (Note [record temporaries]). Throws IoError when the folder cannot be created.
  explicit ResultsStore(std::string dir);

  /// Records `record` under record.key, atomically: a reader or a crash sees the record whole or
  /// not at all. With kNew, RecordExists naming the file when the key is recorded (also when a
  /// concurrent writer published it first); with kNewVersion the recorded version is first
  /// linked into superseded/. Throws InternalError for a malformed record (bad names, columns
  /// of unequal length), IoError when writing fails; the published records are untouched then.
  void write(const RunRecord& record, Recording how = Recording::kNew) const;

  /// The superseded versions of `key`, oldest first (paths of record files).
  std::vector<std::string> superseded(const std::string& key) const;

  /// Whether a record of `key` is published.
  bool contains(const std::string& key) const;

  /// Whether `key` is recorded and still follows from what it was made of: along its chain of
  /// parents, each record's parent_content_hash is its parent's content_hash. A stage whose
  /// parent was recorded again with other contents (a forced retrain, an import) is stale, and
  /// so are its descendants: a sweep or `quantize` runs them again instead of reusing them.
  bool is_current(const std::string& key) const;

  /// Reads the record of `key`. IoError or DataError naming the file when it is missing,
  /// truncated, corrupt or not a ptqat record.
  RunRecord read(const std::string& key) const;

  /// Keys of the published records, sorted. DataError naming any file in records/ that is
  /// neither a record nor a temporary (hidden files are ignored, such as the .nfs<hex> files NFS
  /// keeps for open deleted files).
  std::vector<std::string> keys() const;

  /// Rebuilds `results_path` (typically <dir>/results.h5) from every record, each validated by
  /// reading it in full and copied to /runs/<key> (superseded versions to
  /// /superseded/<key>.<n>, which read_results() leaves out); written to a temporary and renamed
  /// into place, so an existing results file is never opened for writing and its readers keep
  /// reading the old view. The file's attribute "store" names this store. Under a lock beside
  /// the file, and after check_view(). Stale temporaries of `results_path` are removed first. A
  /// corrupt record is an error naming it; nothing is skipped.
  void consolidate(const std::string& results_path) const;

  /// ConfigError naming `results_path` when it exists and holds a run (current or superseded)
  /// this store does not record, such as another store's view or a merged file: consolidating
  /// into it would drop that run. A moved or copied store still rebuilds its own view. Runs and
  /// sweeps call it before their first stage.
  void check_view(const std::string& results_path) const;

  const std::string& dir() const { return dir_; }
  /// <dir>/records/<key>.h5.
  std::string record_path(const std::string& key) const;

 private:
  /// The store's folder as an absolute path without links: what a view's "store" names.
  std::string canonical_dir() const;
  /// Links the published record of `key` (if any) to the next free superseded/<key>.<n>.h5.
  void keep_as_superseded(const std::string& key) const;

  std::string dir_;
  std::string records_dir_;
  std::string superseded_dir_;
};

/// Every run of a results file (consolidated, or a single record file), in key order.
/// IoError or DataError naming the file when it is not a readable ptqat results file.
std::vector<RunRecord> read_results(const std::string& results_h5);

struct MergeSummary {
  size_t runs_read = 0;           ///< runs in all inputs together (their /runs)
  size_t duplicates = 0;          ///< runs whose key an earlier input already had
  size_t runs_written = 0;        ///< distinct keys in the output
  size_t superseded_written = 0;  ///< versions kept under /superseded
};

/// `ptqat results merge`: every run of `inputs` (results files or record files, e.g. of the jobs
/// of a Slurm array) into a new results file `output`, written to a temporary and renamed into
/// place. Nothing is dropped: for a key found more than once, the version that finished last is
/// the run and every other distinct version (the inputs' superseded ones too) is kept under
/// /superseded/<key>.<n>, oldest first; one run seen in two inputs counts once. Every input run
/// is validated first; an unreadable input is an error naming it and nothing is written.
/// ConfigError when `output` is one of the inputs.
MergeSummary merge_results(const std::vector<std::string>& inputs, const std::string& output);

}  // namespace ptqat::results
