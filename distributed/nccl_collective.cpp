#include "distributed/nccl_collective.h"

#include "core/error.h"

namespace ptqat::distributed {
namespace {

NcclType nccl_type_of(const torch::Tensor& tensor, const char* operation) {
  PTQAT_CHECK(tensor.is_cuda() && tensor.is_contiguous(), DistError,
              "NCCL {}: expected a contiguous CUDA tensor, got a {} tensor on {}", operation,
              tensor.is_contiguous() ? "contiguous" : "strided", tensor.device().str());
  switch (tensor.scalar_type()) {
    case torch::kFloat32: return NcclType::kFloat32;
    case torch::kFloat64: return NcclType::kFloat64;
    case torch::kFloat16: return NcclType::kFloat16;
    case torch::kBFloat16: return NcclType::kBFloat16;
    case torch::kInt32: return NcclType::kInt32;
    case torch::kInt64: return NcclType::kInt64;
    case torch::kUInt8: return NcclType::kUInt8;
    case torch::kInt8: return NcclType::kInt8;
    default:
      PTQAT_FAIL(DistError, "NCCL {}: dtype {} is not one NCCL reduces", operation,
                 c10::toString(tensor.scalar_type()));
  }
}

}  // namespace

NcclCollective::NcclCollective(MpiCommunicator& group, int device)
    : group_(group), nccl_(group.handle(), device) {}

void NcclCollective::all_reduce_sum(const torch::Tensor& tensor) {
  const NcclType type = nccl_type_of(tensor, "all-reduce");
  nccl_.all_reduce(tensor.data_ptr(), static_cast<size_t>(tensor.numel()), type, NcclOp::kSum, nullptr);
  NcclComm::synchronize(nullptr);
}

void NcclCollective::all_reduce_max(const torch::Tensor& tensor) {
  const NcclType type = nccl_type_of(tensor, "all-reduce");
  nccl_.all_reduce(tensor.data_ptr(), static_cast<size_t>(tensor.numel()), type, NcclOp::kMax, nullptr);
  NcclComm::synchronize(nullptr);
}

void NcclCollective::broadcast(const torch::Tensor& tensor, int root) {
  const NcclType type = nccl_type_of(tensor, "broadcast");
  nccl_.broadcast(tensor.data_ptr(), static_cast<size_t>(tensor.numel()), type, root, nullptr);
  NcclComm::synchronize(nullptr);
}

}  // namespace ptqat::distributed
