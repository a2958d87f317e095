#include "distributed/nccl_comm.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <utility>

#include "core/error.h"
#include "distributed/mpi_check.h"

namespace ptqat::distributed {
namespace {

#define PTQAT_CUDA_CHECK(call)                                                          \
  do {                                                                                  \
    const cudaError_t status_ = (call);                                                 \
    PTQAT_CHECK(status_ == cudaSuccess, DistError, "{} failed: {}", #call,              \
                cudaGetErrorString(status_));                                           \
  } while (false)

#define PTQAT_NCCL_CHECK(call)                                                          \
  do {                                                                                  \
    const ncclResult_t status_ = (call);                                                \
    PTQAT_CHECK(status_ == ncclSuccess, DistError, "{} failed: {}", #call,              \
                ncclGetErrorString(status_));                                           \
  } while (false)

ncclDataType_t nccl_type(NcclType type) {
  switch (type) {
    case NcclType::kFloat32: return ncclFloat32;
    case NcclType::kFloat64: return ncclFloat64;
    case NcclType::kFloat16: return ncclFloat16;
    case NcclType::kBFloat16: return ncclBfloat16;
    case NcclType::kInt32: return ncclInt32;
    case NcclType::kInt64: return ncclInt64;
    case NcclType::kUInt8: return ncclUint8;
    case NcclType::kInt8: return ncclInt8;
  }
  PTQAT_FAIL(InternalError, "unknown NcclType");
}

cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

}  // namespace

int cuda_device_count() {
  int count = 0;
  // No driver, no device, or a driver older than the runtime: no GPU to use.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky error
    return 0;
  }
  return count;
}

NcclComm::NcclComm(MPI_Comm group, int device) : device_(device) {
  PTQAT_MPI_CHECK(MPI_Comm_rank(group, &rank_));
  PTQAT_MPI_CHECK(MPI_Comm_size(group, &size_));
  PTQAT_CUDA_CHECK(cudaSetDevice(device));
  ncclUniqueId id;
  if (rank_ == 0) PTQAT_NCCL_CHECK(ncclGetUniqueId(&id));
  PTQAT_MPI_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, group));
  PTQAT_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
}

NcclComm::~NcclComm() {
  if (comm_ != nullptr) ncclCommDestroy(comm_);
}

NcclComm::NcclComm(NcclComm&& other) noexcept
    : comm_(std::exchange(other.comm_, nullptr)),
      rank_(other.rank_),
      size_(other.size_),
      device_(other.device_) {}

NcclComm& NcclComm::operator=(NcclComm&& other) noexcept {
  if (this != &other) {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    comm_ = std::exchange(other.comm_, nullptr);
    rank_ = other.rank_;
    size_ = other.size_;
    device_ = other.device_;
  }
  return *this;
}

void NcclComm::all_reduce(void* data, size_t count, NcclType type, NcclOp op, void* stream) {
  PTQAT_NCCL_CHECK(ncclAllReduce(data, data, count, nccl_type(type),
                                 op == NcclOp::kSum ? ncclSum : ncclMax, comm_, as_stream(stream)));
}

void NcclComm::broadcast(void* data, size_t count, NcclType type, int root, void* stream) {
  PTQAT_NCCL_CHECK(
      ncclBroadcast(data, data, count, nccl_type(type), root, comm_, as_stream(stream)));
}

void NcclComm::all_gather(const void* send, void* receive, size_t count, NcclType type,
                          void* stream) {
  PTQAT_NCCL_CHECK(
      ncclAllGather(send, receive, count, nccl_type(type), comm_, as_stream(stream)));
}

void NcclComm::synchronize(void* stream) { PTQAT_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream))); }

}  // namespace ptqat::distributed
