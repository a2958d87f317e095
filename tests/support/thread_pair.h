#pragma once
// Two in-process "ranks" on two threads, for testing collective code without MPI.

#include <torch/torch.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/collective.h"

namespace ptqat::testing {

// Two in-process ranks on two threads (the thread-worker pattern of docs/style.md): each collective
// waits for both ranks' tensors, combines copies, then waits again before the slots are reused.
class ThreadPair {
 public:
  class Rank final : public core::Collective {
   public:
    Rank(ThreadPair& pair, int rank) : pair_(pair), rank_(rank) {}
    int rank() const override { return rank_; }
    int world_size() const override { return 2; }
    void all_reduce_sum(const torch::Tensor& t) override {
      pair_.combine(rank_, t, [](auto a, auto b) { return a + b; });
    }
    void all_reduce_max(const torch::Tensor& t) override {
      pair_.combine(rank_, t, [](auto a, auto b) { return torch::maximum(a, b); });
    }
    void broadcast(const torch::Tensor& t, int root) override {
      pair_.combine(rank_, t, [root](auto a, auto b) { return root == 0 ? a : b; });
    }
    void barrier() override { pair_.wait(); }
    std::vector<std::string> all_gather_bytes(const std::string& bytes) override {
      return pair_.gather(rank_, bytes);
    }

   private:
    ThreadPair& pair_;
    int rank_;
  };

  void combine(int rank, const torch::Tensor& t,
               const std::function<torch::Tensor(torch::Tensor, torch::Tensor)>& op) {
    slots_[rank] = t.clone();
    wait();
    t.copy_(op(slots_[0], slots_[1]));
    wait();
  }

  std::vector<std::string> gather(int rank, const std::string& bytes) {
    byte_slots_[rank] = bytes;
    wait();
    std::vector<std::string> all = {byte_slots_[0], byte_slots_[1]};
    wait();
    return all;
  }

  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t generation = generation_;
    if (++arrived_ == 2) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != generation; });
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  torch::Tensor slots_[2];
  std::string byte_slots_[2];
};

}  // namespace ptqat::testing
