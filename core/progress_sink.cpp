#include "core/progress_sink.h"

#include <utility>

namespace ptqat::core {
namespace {

ProgressSink& current_sink() {
  static ProgressSink sink;
  return sink;
}

}  // namespace

const ProgressSink& progress_sink() { return current_sink(); }

ScopedProgressSink::ScopedProgressSink(ProgressSink sink)
    : previous_(std::exchange(current_sink(), std::move(sink))) {}

ScopedProgressSink::~ScopedProgressSink() { current_sink() = std::move(previous_); }

}  // namespace ptqat::core
