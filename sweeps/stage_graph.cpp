#include "sweeps/stage_graph.h"

#include <fmt/format.h>

#include "core/error.h"

namespace ptqat::sweeps {

void StageGraph::add(StageNode node) {
  if (index_.count(node.key) != 0) return;
  PTQAT_ASSERT(node.parent.empty() || index_.count(node.parent) != 0,
               "stage {} added before its parent {}", node.key, node.parent);
  index_.emplace(node.key, nodes_.size());
  nodes_.push_back(std::move(node));
}

long StageGraph::index_of(const std::string& key) const {
  const auto found = index_.find(key);
  return found == index_.end() ? -1 : static_cast<long>(found->second);
}

std::vector<size_t> StageGraph::children(long index) const {
  const std::string parent = index < 0 ? "" : nodes_[static_cast<size_t>(index)].key;
  std::vector<size_t> result;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].parent == parent) result.push_back(i);
  }
  return result;
}

void StageGraph::print_plan(std::ostream& out,
                            const std::function<bool(const std::string&)>& recorded) const {
  std::map<std::string, int> per_stage;
  size_t done = 0;
  const std::function<void(long, int)> print = [&](long index, int depth) {
    for (const size_t child : children(index)) {
      const StageNode& node = nodes_[child];
      const bool is_done = recorded(node.key);
      done += is_done ? 1 : 0;
      ++per_stage[node.stage];
      out << fmt::format("{:<4} {}{:<10} {}  {}\n", is_done ? "done" : "",
                         std::string(2 * depth, ' '), node.stage, node.key,
                         node.name.empty() ? node.description : node.name);
      print(static_cast<long>(child), depth + 1);
    }
  };
  print(-1, 0);
  std::string counts;
  for (const auto& [stage, count] : per_stage) {
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", count, stage);
  }
  out << fmt::format("{} stages ({}); {} recorded, {} to run\n", nodes_.size(), counts, done,
                     nodes_.size() - done);
}

}  // namespace ptqat::sweeps
