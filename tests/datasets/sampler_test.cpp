#include "datasets/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace ptqat::datasets {
namespace {

constexpr uint64_t kSeed = 1234;

std::vector<int64_t> samples_of(const std::vector<ShardEntry>& shard) {
  std::vector<int64_t> samples;
  for (const ShardEntry& entry : shard) samples.push_back(entry.sample);
  return samples;
}

/// The global order of `epoch` reassembled from every rank's shard (padding included):
/// position p belongs to rank p % W at step p / W.
std::vector<int64_t> interleave(int64_t num_samples, int world_size, bool shuffle, int64_t epoch) {
  std::vector<std::vector<ShardEntry>> shards;
  for (int rank = 0; rank < world_size; ++rank) {
    shards.push_back(ShardedSampler(num_samples, rank, world_size, shuffle, kSeed).epoch(epoch));
  }
  std::vector<int64_t> order;
  for (size_t step = 0; step < shards[0].size(); ++step) {
    for (int rank = 0; rank < world_size; ++rank) order.push_back(shards[rank][step].sample);
  }
  return order;
}

}  // namespace

TEST(ShardedSampler, ShardsPartitionTheSamplesWithEqualLengths) {
  for (bool shuffle : {false, true}) {
    for (int64_t num_samples : {1, 2, 3, 5, 7, 8, 64, 101}) {
      for (int world_size = 1; world_size <= 4; ++world_size) {
        SCOPED_TRACE(::testing::Message()
                     << "N=" << num_samples << " W=" << world_size << " shuffle=" << shuffle);
        // ceil(N / W), by hand for the sizes above.
        const int64_t expected_size = (num_samples + world_size - 1) / world_size;
        std::vector<int> seen(static_cast<size_t>(num_samples), 0);
        int64_t padding_count = 0;
        for (int rank = 0; rank < world_size; ++rank) {
          const ShardedSampler sampler(num_samples, rank, world_size, shuffle, kSeed);
          EXPECT_EQ(sampler.shard_size(), expected_size);
          const std::vector<ShardEntry> shard = sampler.epoch(3);
          ASSERT_EQ(static_cast<int64_t>(shard.size()), expected_size);
          for (const ShardEntry& entry : shard) {
            ASSERT_GE(entry.sample, 0);
            ASSERT_LT(entry.sample, num_samples);
            if (entry.padding) {
              ++padding_count;
            } else {
              ++seen[static_cast<size_t>(entry.sample)];
            }
          }
        }
        for (int64_t i = 0; i < num_samples; ++i) EXPECT_EQ(seen[i], 1) << "sample " << i;
        EXPECT_EQ(padding_count, expected_size * world_size - num_samples);
      }
    }
  }
}

TEST(ShardedSampler, WithoutShuffleTheGlobalOrderIsIdentity) {
  // N = 5, W = 2: padded to 6 = [0 1 2 3 4 | 0]; rank 0 takes 0, 2, 4; rank 1 takes 1, 3, 0.
  const std::vector<ShardEntry> rank0 = ShardedSampler(5, 0, 2, false, kSeed).epoch(7);
  const std::vector<ShardEntry> rank1 = ShardedSampler(5, 1, 2, false, kSeed).epoch(7);
  EXPECT_EQ(samples_of(rank0), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(samples_of(rank1), (std::vector<int64_t>{1, 3, 0}));
  EXPECT_FALSE(rank0[2].padding);
  EXPECT_FALSE(rank1[1].padding);
  EXPECT_TRUE(rank1[2].padding);

  for (int64_t epoch : {0, 1, 9}) {
    std::vector<int64_t> identity(10);
    for (int64_t i = 0; i < 10; ++i) identity[i] = i;
    EXPECT_EQ(samples_of(ShardedSampler(10, 0, 1, false, kSeed).epoch(epoch)), identity);
  }
}

TEST(ShardedSampler, PaddingRepeatsTheHeadCyclicallyWhenFewerSamplesThanRanks) {
  // N = 2, W = 4: padded order [0 1 | 0 1]; ranks 2 and 3 get only padding.
  EXPECT_EQ(interleave(2, 4, false, 0), (std::vector<int64_t>{0, 1, 0, 1}));
  const std::vector<ShardEntry> rank3 = ShardedSampler(2, 3, 4, false, kSeed).epoch(0);
  ASSERT_EQ(rank3.size(), 1u);
  EXPECT_EQ(rank3[0].sample, 1);
  EXPECT_TRUE(rank3[0].padding);
  // N = 1, W = 3: every rank visits sample 0, only rank 0 as a real sample.
  for (int rank = 0; rank < 3; ++rank) {
    const std::vector<ShardEntry> shard = ShardedSampler(1, rank, 3, true, kSeed).epoch(0);
    ASSERT_EQ(shard.size(), 1u);
    EXPECT_EQ(shard[0].sample, 0);
    EXPECT_EQ(shard[0].padding, rank != 0);
  }
}

TEST(ShardedSampler, SameEpochGivesSameOrder) {
  for (int rank = 0; rank < 3; ++rank) {
    const ShardedSampler a(50, rank, 3, true, kSeed);
    const ShardedSampler b(50, rank, 3, true, kSeed);
    EXPECT_EQ(samples_of(a.epoch(4)), samples_of(b.epoch(4)));
    EXPECT_EQ(samples_of(a.epoch(4)), samples_of(a.epoch(4)));
  }
}

TEST(ShardedSampler, EpochsAndSeedsChangeTheShuffledOrder) {
  const ShardedSampler sampler(100, 0, 1, true, kSeed);
  const std::vector<int64_t> epoch0 = samples_of(sampler.epoch(0));
  const std::vector<int64_t> epoch1 = samples_of(sampler.epoch(1));
  EXPECT_NE(epoch0, epoch1);
  EXPECT_NE(epoch0, samples_of(ShardedSampler(100, 0, 1, true, kSeed + 1).epoch(0)));
  // A shuffle of 100 samples that is still the identity would mean the shuffle did nothing
  // (probability 1/100!).
  std::vector<int64_t> identity(100);
  for (int64_t i = 0; i < 100; ++i) identity[i] = i;
  EXPECT_NE(epoch0, identity);
  // Still a permutation.
  std::vector<int64_t> sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, identity);
}

TEST(ShardedSampler, GlobalOrderDoesNotDependOnRankOrWorldSize) {
  // The permutation comes from (seed, epoch) only: the order a single rank sees with W = 1 is
  // the order that W = 2, 3, 4 ranks see interleaved (up to the padding at the end).
  const int64_t num_samples = 37;
  for (int64_t epoch : {0, 5}) {
    const std::vector<int64_t> single = interleave(num_samples, 1, true, epoch);
    for (int world_size = 2; world_size <= 4; ++world_size) {
      std::vector<int64_t> order = interleave(num_samples, world_size, true, epoch);
      const size_t padded = order.size();
      order.resize(num_samples);
      EXPECT_EQ(order, single) << "W=" << world_size;
      // The padded tail repeats the head of the same order.
      const std::vector<int64_t> full = interleave(num_samples, world_size, true, epoch);
      for (size_t p = num_samples; p < padded; ++p) EXPECT_EQ(full[p], single[p - num_samples]);
    }
  }
}

TEST(ShardedSampler, RejectsBadArguments) {
  EXPECT_THROW(ShardedSampler(0, 0, 1, false, kSeed), DataError);
  EXPECT_THROW(ShardedSampler(-3, 0, 1, false, kSeed), DataError);
  EXPECT_THROW(ShardedSampler(10, 0, 0, false, kSeed), ConfigError);
  EXPECT_THROW(ShardedSampler(10, 2, 2, false, kSeed), ConfigError);
  EXPECT_THROW(ShardedSampler(10, -1, 2, false, kSeed), ConfigError);
  try {
    ShardedSampler(10, 5, 4, false, kSeed);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), "sampler: expected rank in [0, 4), got 5");
  }
}

}  // namespace ptqat::datasets
