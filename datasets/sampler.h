#pragma once
// Deterministic sampler sharded by rank: which samples each rank visits in an epoch.
//
// Every rank builds the same global order from (seed, epoch) alone, pads it to a multiple of the
// world size by repeating its head, and takes every world_size-th entry starting at its rank (the
// layout of torch.utils.data.DistributedSampler). So all ranks run the same number of steps (a
// collective never waits on a rank that ran out of data), and the non-padding entries over all
// ranks are exactly 0..N-1, once each; evaluation drops the padding before the metric.

#include <cstdint>
#include <vector>

namespace ptqat::datasets {

/// One position of a rank's shard: a sample index, and whether it is a padded repeat.
struct ShardEntry {
  int64_t sample;
  bool padding;
};

/// The shard of one rank, for any epoch. Immutable after construction, so thread-safe.
class ShardedSampler {
 public:
  /// `num_samples` >= 1 (else DataError); `world_size` >= 1 and `rank` in [0, world_size) (else
  /// ConfigError). With `shuffle` the global order is a permutation drawn from (seed, epoch),
  /// identical on every machine and standard library; without it the order is 0..N-1.
  ShardedSampler(int64_t num_samples, int rank, int world_size, bool shuffle, uint64_t seed);

  /// This rank's entries for `epoch`, in visiting order; always shard_size() long.
  std::vector<ShardEntry> epoch(int64_t epoch) const;

  /// Entries per rank and epoch: ceil(num_samples / world_size).
  int64_t shard_size() const;

  int64_t num_samples() const { return num_samples_; }
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

 private:
  /// The unpadded global order of `epoch`, the same on every rank.
  std::vector<int64_t> global_order(int64_t epoch) const;

  int64_t num_samples_;
  int rank_;
  int world_size_;
  bool shuffle_;
  uint64_t seed_;
};

}  // namespace ptqat::datasets
