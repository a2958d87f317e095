#include "distributed/mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <numeric>

#include "core/error.h"
#include "distributed/mpi_check.h"

namespace ptqat::distributed {

namespace {

MPI_Datatype mpi_type(const torch::Tensor& tensor, const char* what) {
  PTQAT_CHECK(tensor.defined(), DistError, "{}: undefined tensor", what);
  PTQAT_CHECK(tensor.device().is_cpu(), DistError,
              "{}: a {} tensor; the MPI communicator takes CPU tensors (CUDA tensors go through "
              "NCCL)",
              what, tensor.device().str());
  PTQAT_CHECK(tensor.is_contiguous(), DistError,
              "{}: a non-contiguous tensor of sizes {}; collectives work in place on contiguous "
              "storage",
              what, c10::str(tensor.sizes()));
  switch (tensor.scalar_type()) {
    case torch::kFloat32:
      return MPI_FLOAT;
    case torch::kFloat64:
      return MPI_DOUBLE;
    case torch::kInt8:
      return MPI_INT8_T;
    case torch::kInt32:
      return MPI_INT32_T;
    case torch::kInt64:
      return MPI_INT64_T;
    case torch::kUInt8:
    case torch::kBool:  // one byte holding 0 or 1: max is a logical or (sum is refused)
      return MPI_UINT8_T;
    default:
      PTQAT_FAIL(DistError, "{}: dtype {} is not supported by the MPI communicator", what,
                 c10::toString(tensor.scalar_type()));
  }
}

/// MPI counts are int: a larger tensor goes in slices of at most this many elements.
constexpr int64_t kMaxCount = INT_MAX / 2;

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  PTQAT_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  PTQAT_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

MpiCommunicator MpiCommunicator::world() {
  MPI_Comm comm = MPI_COMM_NULL;
  PTQAT_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
  return MpiCommunicator(comm);
}

MpiCommunicator MpiCommunicator::split(int color, int key) const {
  PTQAT_CHECK(color >= 0, DistError, "split: color {} (expected >= 0)", color);
  MPI_Comm comm = MPI_COMM_NULL;
  PTQAT_MPI_CHECK(MPI_Comm_split(comm_, color, key, &comm));
  return MpiCommunicator(comm);
}

MpiCommunicator::~MpiCommunicator() {
  if (comm_ == MPI_COMM_NULL) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);  // no throw from a destructor: a failure is ignored
}

MpiCommunicator::MpiCommunicator(MpiCommunicator&& other) noexcept
    : comm_(other.comm_), rank_(other.rank_), size_(other.size_) {
  other.comm_ = MPI_COMM_NULL;
}

MpiCommunicator& MpiCommunicator::operator=(MpiCommunicator&& other) noexcept {
  if (this != &other) {
    MpiCommunicator old(std::move(*this));
    comm_ = other.comm_;
    rank_ = other.rank_;
    size_ = other.size_;
    other.comm_ = MPI_COMM_NULL;
  }
  return *this;
}

void MpiCommunicator::all_reduce(const torch::Tensor& tensor, MPI_Op op, const char* what) {
  const MPI_Datatype type = mpi_type(tensor, what);
  PTQAT_CHECK(!(op == MPI_SUM && tensor.scalar_type() == torch::kBool), DistError,
              "{}: a sum of bool tensors is not a bool", what);
  auto* data = static_cast<char*>(tensor.data_ptr());
  const int64_t element_size = static_cast<int64_t>(tensor.element_size());
  for (int64_t begin = 0; begin < tensor.numel(); begin += kMaxCount) {
    const int count = static_cast<int>(std::min(kMaxCount, tensor.numel() - begin));
    PTQAT_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, data + begin * element_size, count, type, op, comm_));
  }
}

void MpiCommunicator::all_reduce_sum(const torch::Tensor& tensor) {
  all_reduce(tensor, MPI_SUM, "all_reduce_sum");
}

void MpiCommunicator::all_reduce_max(const torch::Tensor& tensor) {
  all_reduce(tensor, MPI_MAX, "all_reduce_max");
}

void MpiCommunicator::broadcast(const torch::Tensor& tensor, int root) {
  const MPI_Datatype type = mpi_type(tensor, "broadcast");
  PTQAT_CHECK(root >= 0 && root < size_, DistError, "broadcast: root {} outside [0, {})", root,
              size_);
  auto* data = static_cast<char*>(tensor.data_ptr());
  const int64_t element_size = static_cast<int64_t>(tensor.element_size());
  for (int64_t begin = 0; begin < tensor.numel(); begin += kMaxCount) {
    const int count = static_cast<int>(std::min(kMaxCount, tensor.numel() - begin));
    PTQAT_MPI_CHECK(MPI_Bcast(data + begin * element_size, count, type, root, comm_));
  }
}

void MpiCommunicator::barrier() { PTQAT_MPI_CHECK(MPI_Barrier(comm_)); }

torch::Tensor MpiCommunicator::all_gather(const torch::Tensor& tensor) {
  const MPI_Datatype type = mpi_type(tensor, "all_gather");
  PTQAT_CHECK(tensor.numel() <= kMaxCount, DistError,
              "all_gather: {} elements per rank (at most {})", tensor.numel(), kMaxCount);
  std::vector<int64_t> sizes{size_};
  sizes.insert(sizes.end(), tensor.sizes().begin(), tensor.sizes().end());
  torch::Tensor gathered = torch::empty(sizes, tensor.options());
  PTQAT_MPI_CHECK(MPI_Allgather(tensor.data_ptr(), static_cast<int>(tensor.numel()), type,
                                gathered.data_ptr(), static_cast<int>(tensor.numel()), type,
                                comm_));
  return gathered;
}

std::vector<std::string> MpiCommunicator::all_gather_bytes(const std::string& bytes) {
  PTQAT_CHECK(bytes.size() <= static_cast<size_t>(kMaxCount), DistError,
              "all_gather_bytes: {} bytes from one rank (at most {})", bytes.size(), kMaxCount);
  const int length = static_cast<int>(bytes.size());
  std::vector<int> lengths(static_cast<size_t>(size_));
  PTQAT_MPI_CHECK(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm_));
  std::vector<int> offsets(static_cast<size_t>(size_), 0);
  int64_t total = 0;
  for (int r = 0; r < size_; ++r) {
    PTQAT_CHECK(total + lengths[r] <= INT_MAX, DistError,
                "all_gather_bytes: more than {} bytes in all", INT_MAX);
    offsets[r] = static_cast<int>(total);
    total += lengths[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  PTQAT_MPI_CHECK(MPI_Allgatherv(bytes.data(), length, MPI_BYTE, all.data(), lengths.data(),
                                 offsets.data(), MPI_BYTE, comm_));
  std::vector<std::string> parts;
  parts.reserve(static_cast<size_t>(size_));
  for (int r = 0; r < size_; ++r) parts.push_back(all.substr(offsets[r], lengths[r]));
  return parts;
}

}  // namespace ptqat::distributed
