#include "datasets/loader.h"

#include <random>
#include <vector>

#include "core/error.h"
#include "datasets/gt_paste.h"

namespace ptqat::datasets {

using core::IntRange;
using core::Stage;

void LoaderConfig::visit(core::ConfigVisitor& v) {
  v.section("loader", [&] {
    v.field({"batch_size", "samples per rank and step", Stage::kFloatTrain}, batch_size,
            IntRange{1, 4096});
    v.field({"shuffle", "reshuffle the training split every epoch", Stage::kFloatTrain}, shuffle);
    v.field({"workers", "loader threads per rank; 0 loads on the training thread", Stage::kNone},
            workers, IntRange{0, 64});
    v.field({"prefetch", "batches loaded ahead of the training loop", Stage::kNone}, prefetch,
            IntRange{1, 256});
  });
}

Loader::Loader(const NuScenesDataset& dataset, LoaderConfig config, PillarConfig pillars,
               AugmentConfig augment, int rank, int world_size, uint64_t seed)
    : dataset_(dataset),
      config_(config),
      pillars_(std::move(pillars)),
      augment_(std::move(augment)),
      sampler_(dataset.size(), rank, world_size, config.shuffle, seed),
      seed_(seed) {
  validate(pillars_);
  validate(augment_);
  if (augment_.enabled && augment_.gt_paste) {
    auto database = std::make_shared<GroundTruthDatabase>(read_gt_database(augment_.gt_database));
    PTQAT_CHECK(database->frame == dataset.config().frame, DataError,
                "{}: the database's points are in the {} frame, the dataset's (data.frame) in the {} "
                "frame; rebuild it with the run's config",
                augment_.gt_database, database->frame, dataset.config().frame);
    gt_database_ = std::move(database);
  }
}

Loader::~Loader() { stop_workers(); }

int64_t Loader::steps_per_epoch() const {
  return (sampler_.shard_size() + config_.batch_size - 1) / config_.batch_size;
}

Batch Loader::load(const std::vector<ShardEntry>& entries, int64_t epoch) const {
  std::vector<Sample> samples;
  std::vector<Pillars> pillars;
  for (const ShardEntry& entry : entries) {
    Sample sample = dataset_.get(entry.sample);
    if (augment_.enabled) {
      // Seeded by (seed, epoch, sample) only: the same augmentation whatever thread or rank
      // loads the sample. GT-paste draws from its own stream (one more seed word), so switching
      // it on leaves the other draws as they were.
      const auto stream = [&](std::vector<uint32_t> words) {
        words.insert(words.begin(), {static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32),
                                     static_cast<uint32_t>(epoch), static_cast<uint32_t>(entry.sample)});
        std::seed_seq seeds(words.begin(), words.end());
        return std::mt19937_64(seeds);
      };
      std::mt19937_64 rng = stream({});
      if (gt_database_) {
        std::mt19937_64 paste_rng = stream({1u});
        paste_ground_truth(sample, *gt_database_, augment_.gt_paste_counts, paste_rng);
      }
      apply_augmentation(sample, draw_augmentation(augment_, rng));
    }
    pillars.push_back(pillarize(sample.points, pillars_));
    samples.push_back(std::move(sample));
  }
  Batch batch = collate(samples, pillars);
  if (pin_memory_) batch = batch.pinned();
  for (const ShardEntry& entry : entries) {
    batch.sample_indices.push_back(entry.sample);
    batch.padding.push_back(entry.padding);
  }
  return batch;
}

void Loader::start_epoch(int64_t epoch) {
  stop_workers();
  const std::vector<ShardEntry> shard = sampler_.epoch(epoch);
  std::lock_guard<std::mutex> lock(mutex_);
  epoch_ = epoch;
  batches_.clear();
  for (size_t begin = 0; begin < shard.size(); begin += config_.batch_size) {
    const size_t end = std::min(shard.size(), begin + static_cast<size_t>(config_.batch_size));
    batches_.emplace_back(shard.begin() + begin, shard.begin() + end);
  }
  next_to_claim_ = next_to_deliver_ = 0;
  ready_.clear();
  failed_.clear();
  stopping_ = false;
  for (int64_t w = 0; w < config_.workers; ++w) workers_.emplace_back([this] { work(); });
}

void Loader::work() {
  while (true) {
    int64_t index = 0, epoch = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto total = static_cast<int64_t>(batches_.size());
      changed_.wait(lock, [&] {
        return stopping_ || next_to_claim_ >= total ||
               next_to_claim_ < next_to_deliver_ + config_.prefetch;
      });
      if (stopping_ || next_to_claim_ >= total) return;
      index = next_to_claim_++;
      epoch = epoch_;
    }
    std::optional<Batch> batch;
    std::exception_ptr error;
    try {
      batch = load(batches_[index], epoch);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (error) {
      failed_[index] = error;
    } else {
      ready_.emplace(index, std::move(*batch));
    }
    changed_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  PTQAT_ASSERT(epoch_ >= 0, "Loader::next before start_epoch");
  if (next_to_deliver_ >= static_cast<int64_t>(batches_.size())) return std::nullopt;
  if (config_.workers == 0) return load(batches_[next_to_deliver_++], epoch_);

  std::unique_lock<std::mutex> lock(mutex_);
  const int64_t index = next_to_deliver_;
  changed_.wait(lock, [&] { return ready_.count(index) || failed_.count(index); });
  if (const auto it = failed_.find(index); it != failed_.end()) {
    const std::exception_ptr error = it->second;
    lock.unlock();
    stop_workers();
    next_to_deliver_ = static_cast<int64_t>(batches_.size());  // the epoch ends here
    std::rethrow_exception(error);
  }
  Batch batch = std::move(ready_.at(index));
  ready_.erase(index);
  ++next_to_deliver_;
  changed_.notify_all();
  return batch;
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

}  // namespace ptqat::datasets
