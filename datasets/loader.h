#pragma once
// The prefetching loader: a rank's shard of a split, read, augmented, pillar-encoded and
// collated by worker threads ahead of the training loop, delivered in a fixed order.

#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/config.h"
#include "datasets/augment.h"
#include "datasets/batch.h"
#include "datasets/gt_database.h"
#include "datasets/nuscenes_dataset.h"
#include "datasets/pillars.h"
#include "datasets/sampler.h"

namespace ptqat::datasets {

struct LoaderConfig {
  int64_t batch_size = 2;
  bool shuffle = true;
  int64_t workers = 2;
  int64_t prefetch = 4;

  void visit(core::ConfigVisitor& v);
};

/// Iterates one rank's shard of a dataset, epoch by epoch. Batches arrive in sampler order
/// whatever the number of workers, and a sample's augmentation is drawn from (seed, epoch,
/// sample index) alone, so results do not depend on threads or timing. A worker's exception is
/// rethrown by next(). Not thread-safe itself: one consumer.
class Loader {
 public:
  /// `augment` is applied only when `augment.enabled` (training); pass a disabled config for
  /// evaluation. With augment.gt_paste the database is read here (IoError / DataError naming it;
  /// DataError when it was built in another frame than the dataset's).
  Loader(const NuScenesDataset& dataset, LoaderConfig config, PillarConfig pillars,
         AugmentConfig augment, int rank, int world_size, uint64_t seed);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Batches per epoch; equal on every rank (the sampler pads shards).
  int64_t steps_per_epoch() const;
  /// Workers put batches in page-locked memory, so the copy to a GPU can overlap compute
  /// (Batch::to with non_blocking). Only for a CUDA-enabled LibTorch with a GPU; set before
  /// start_epoch().
  void pin_memory(bool enabled) { pin_memory_ = enabled; }
  /// Starts `epoch`; batches of an unfinished previous epoch are dropped.
  void start_epoch(int64_t epoch);
  /// The epoch's next batch, or nullopt once it is exhausted.
  std::optional<Batch> next();

  /// Loads one batch of shard entries on the calling thread (what the workers run).
  Batch load(const std::vector<ShardEntry>& entries, int64_t epoch) const;

 private:
  void stop_workers();
  void work();

  const NuScenesDataset& dataset_;
  LoaderConfig config_;
  PillarConfig pillars_;
  AugmentConfig augment_;
  /// The GT-paste database of training with augment.gt_paste; null otherwise.
  std::shared_ptr<const GroundTruthDatabase> gt_database_;
  ShardedSampler sampler_;
  uint64_t seed_;
  bool pin_memory_ = false;

  // State of the running epoch, guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t epoch_ = -1;
  std::vector<std::vector<ShardEntry>> batches_;
  int64_t next_to_claim_ = 0;
  int64_t next_to_deliver_ = 0;
  bool stopping_ = false;
  std::map<int64_t, Batch> ready_;
  std::map<int64_t, std::exception_ptr> failed_;
  std::vector<std::thread> workers_;
};

}  // namespace ptqat::datasets
