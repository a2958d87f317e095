#include "datasets/sampler.h"

#include <random>
#include <utility>

#include "core/error.h"

namespace ptqat::datasets {
namespace {

// Note: [portable shuffle]
// std::shuffle and std::uniform_int_distribution are implementation-defined: libstdc++, libc++
// and MSVC turn the same engine output into different permutations. Ranks may run on different
// machines and a resumed sweep must see the same order as the first run, so the permutation is
// built only from std::mt19937_64 (whose output the standard fixes bit for bit), an unbiased
// bounded draw and a textbook Fisher-Yates, all written here.

/// SplitMix64 finaliser: spreads (seed, epoch) over all 64 bits so that nearby seeds and epochs
/// give unrelated engine states.
uint64_t mix(uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

/// Uniform integer in [0, bound), bound >= 1, without modulo bias: draws below
/// 2^64 mod bound are rejected so that every residue has the same number of preimages.
uint64_t draw_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;  // == 2^64 mod bound
  while (true) {
    const uint64_t value = rng();
    if (value >= threshold) return value % bound;
  }
}

}  // namespace

ShardedSampler::ShardedSampler(int64_t num_samples, int rank, int world_size, bool shuffle,
                               uint64_t seed)
    : num_samples_(num_samples),
      rank_(rank),
      world_size_(world_size),
      shuffle_(shuffle),
      seed_(seed) {
  PTQAT_CHECK(num_samples >= 1, DataError,
              "sampler: expected at least one sample in the split, got {}", num_samples);
  PTQAT_CHECK(world_size >= 1, ConfigError, "sampler: expected world size >= 1, got {}",
              world_size);
  PTQAT_CHECK(rank >= 0 && rank < world_size, ConfigError,
              "sampler: expected rank in [0, {}), got {}", world_size, rank);
}

int64_t ShardedSampler::shard_size() const {
  return (num_samples_ + world_size_ - 1) / world_size_;
}

std::vector<int64_t> ShardedSampler::global_order(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(num_samples_));
  for (int64_t i = 0; i < num_samples_; ++i) order[static_cast<size_t>(i)] = i;
  if (!shuffle_) return order;

  // See Note: [portable shuffle]. The engine is seeded from (seed, epoch) only, never from the
  // rank, so every rank computes the same permutation.
  std::mt19937_64 rng(mix(seed_ ^ mix(static_cast<uint64_t>(epoch))));
  for (size_t i = order.size() - 1; i > 0; --i) {
    const auto j = static_cast<size_t>(draw_below(rng, i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

std::vector<ShardEntry> ShardedSampler::epoch(int64_t epoch) const {
  const std::vector<int64_t> order = global_order(epoch);
  const int64_t padded = shard_size() * world_size_;
  std::vector<ShardEntry> shard;
  shard.reserve(static_cast<size_t>(shard_size()));
  // Positions >= N repeat the order from its head (cyclically when N < W), as
  // DistributedSampler pads; rank r takes positions r, r + W, r + 2W, ...
  for (int64_t position = rank_; position < padded; position += world_size_) {
    const bool padding = position >= num_samples_;
    shard.push_back({order[static_cast<size_t>(position % num_samples_)], padding});
  }
  return shard;
}

}  // namespace ptqat::datasets
