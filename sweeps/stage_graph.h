#pragma once
// The DAG of a sweep's stages (docs/architecture.md "Data flow of one run"): nodes are stages named
// by their stage keys, edges point from a stage to the stage it continues. Points that share a
// prefix (one float model, one calibration per quantization setting) share its nodes, because
// equal stages have equal keys.

#include <cstddef>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace ptqat::sweeps {

struct StageNode {
  std::string key;
  std::string parent;       ///< key of the stage this one continues; empty for a root
  std::string stage;        ///< "float_train", "calibrate", "fine_tune", ...
  std::string description;  ///< what distinguishes it, for the plan
  size_t point = 0;         ///< the first sweep point that needs it: the config that runs it
  std::string name;         ///< for people: "detection-cnn/w4a8/qat/seed0"; "" shows description
};

class StageGraph {
 public:
  /// Adds `node` unless a node of its key exists (then the earlier one stays). Its parent must
  /// already be in the graph: chains are added root first. InternalError otherwise.
  void add(StageNode node);

  /// Nodes in insertion order: every parent before its children.
  const std::vector<StageNode>& nodes() const { return nodes_; }
  /// Index of `key` in nodes(), or -1.
  long index_of(const std::string& key) const;
  /// Indices of the nodes whose parent is node `index` (-1: the roots), in insertion order.
  std::vector<size_t> children(long index) const;

  /// The plan as an indented tree, a line per stage ("done" for those `recorded` says are), and
  /// a summary line counting stages per kind.
  void print_plan(std::ostream& out, const std::function<bool(const std::string&)>& recorded) const;

 private:
  std::vector<StageNode> nodes_;
  std::map<std::string, size_t> index_;
};

}  // namespace ptqat::sweeps
