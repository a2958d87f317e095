#include "tasks/detection/detection_box.h"

#include "core/error.h"
#include "datasets/nuscenes/categories.h"

namespace ptqat::tasks::detection {

std::string_view DetectionBox::detection_name() const {
  if (detection_class < 0 || detection_class >= datasets::kNumDetectionClasses) return "";
  return datasets::kDetectionNames[static_cast<size_t>(detection_class)];
}

std::string_view DetectionBox::attribute_name() const {
  if (attribute < 0 || attribute >= datasets::kNumAttributes) return "";
  return datasets::kAttributeNames[static_cast<size_t>(attribute)];
}

int detection_class_index(std::string_view name) {
  for (size_t c = 0; c < datasets::kDetectionNames.size(); ++c) {
    if (datasets::kDetectionNames[c] == name) return static_cast<int>(c);
  }
  return -1;
}

void DetectionResults::add(const Token& sample, std::vector<DetectionBox> boxes) {
  const auto [it, inserted] = positions_.emplace(sample, entries_.size());
  PTQAT_CHECK(inserted, DataError, "detection results: sample {} added twice", sample.hex());
  entries_.emplace_back(sample, std::move(boxes));
}

const std::vector<DetectionBox>* DetectionResults::find(const Token& sample) const {
  const auto it = positions_.find(sample);
  return it == positions_.end() ? nullptr : &entries_[it->second].second;
}

int64_t DetectionResults::position(const Token& sample) const {
  const auto it = positions_.find(sample);
  return it == positions_.end() ? -1 : static_cast<int64_t>(it->second);
}

std::vector<DetectionResults::Entry> DetectionResults::release() {
  positions_.clear();
  std::vector<Entry> out;
  out.swap(entries_);
  return out;
}

size_t DetectionResults::num_boxes() const {
  size_t count = 0;
  for (const auto& entry : entries_) count += entry.second.size();
  return count;
}

}  // namespace ptqat::tasks::detection
