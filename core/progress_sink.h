#pragma once
// Where progress displays send their status while a sweep shows them on its board
// (sweeps/sweep_board.h). Progress is drawn by code of several folders (the runner's training
// loop and evaluation, the calibration passes); the sweep that collects it lives above them, so
// the hook sits here, below all of them. Set and used by one thread: the one running the stage.

#include <functional>
#include <string>

namespace ptqat::core {

/// Gets a display's status text ("train epoch 2/4: 120/500 (24%) 3.1 it/s ETA 00:31 loss=0.12").
using ProgressSink = std::function<void(const std::string& status)>;

/// The sink while a ScopedProgressSink lives; empty otherwise (displays then draw their own).
const ProgressSink& progress_sink();

/// Sends every progress status of this process to `sink` for its lifetime; the previous sink
/// is restored after it.
class ScopedProgressSink {
 public:
  explicit ScopedProgressSink(ProgressSink sink);
  ~ScopedProgressSink();
  ScopedProgressSink(const ScopedProgressSink&) = delete;
  ScopedProgressSink& operator=(const ScopedProgressSink&) = delete;

 private:
  ProgressSink previous_;
};

}  // namespace ptqat::core
