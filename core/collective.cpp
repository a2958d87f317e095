#include "core/collective.h"

#include "core/error.h"

namespace ptqat::core {

void SingleProcessCollective::all_reduce_sum(const torch::Tensor& tensor) {
  PTQAT_ASSERT(tensor.defined(), "all_reduce_sum on an undefined tensor");
}

void SingleProcessCollective::all_reduce_max(const torch::Tensor& tensor) {
  PTQAT_ASSERT(tensor.defined(), "all_reduce_max on an undefined tensor");
}

void SingleProcessCollective::broadcast(const torch::Tensor& tensor, int root) {
  PTQAT_ASSERT(tensor.defined(), "broadcast of an undefined tensor");
  PTQAT_CHECK(root == 0, DistError, "broadcast: root rank {} does not exist in a group of 1", root);
}

}  // namespace ptqat::core
