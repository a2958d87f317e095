// NcclComm under mpirun -np 2: all-reduce, broadcast and all-gather of device buffers. Skipped
// without a GPU; with fewer GPUs than ranks only the one-rank communicators run (NCCL refuses
// two ranks of one communicator on one device).

#include "distributed/nccl_comm.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <vector>

namespace ptqat::distributed {
namespace {

/// A device buffer of floats, filled from and read back to the host.
class DeviceFloats {
 public:
  explicit DeviceFloats(const std::vector<float>& values) : size_(values.size()) {
    EXPECT_EQ(cudaMalloc(&data_, size_ * sizeof(float)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(data_, values.data(), size_ * sizeof(float), cudaMemcpyHostToDevice),
              cudaSuccess);
  }
  ~DeviceFloats() { cudaFree(data_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  std::vector<float> host() const {
    std::vector<float> values(size_);
    EXPECT_EQ(cudaMemcpy(values.data(), data_, size_ * sizeof(float), cudaMemcpyDeviceToHost),
              cudaSuccess);
    return values;
  }
  void* data() { return data_; }

 private:
  void* data_ = nullptr;
  size_t size_;
};

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

TEST(NcclComm, DeviceCountIsZeroRatherThanAnErrorWithoutAGpu) {
  EXPECT_GE(cuda_device_count(), 0);
}

TEST(NcclComm, AllReduceBroadcastAndAllGatherOverTheWorld) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int devices = cuda_device_count();
  if (devices < size) GTEST_SKIP() << devices << " CUDA devices for " << size << " ranks";
  const int rank = world_rank();
  NcclComm comm(MPI_COMM_WORLD, rank % devices);
  ASSERT_EQ(comm.rank(), rank);
  ASSERT_EQ(comm.size(), size);

  DeviceFloats sum({1.0f * (rank + 1), 10.0f * (rank + 1)});
  comm.all_reduce(sum.data(), 2, NcclType::kFloat32, NcclOp::kSum, nullptr);
  DeviceFloats max({static_cast<float>(rank)});
  comm.all_reduce(max.data(), 1, NcclType::kFloat32, NcclOp::kMax, nullptr);
  DeviceFloats root({rank == 0 ? 42.0f : -1.0f});
  comm.broadcast(root.data(), 1, NcclType::kFloat32, 0, nullptr);
  DeviceFloats mine({static_cast<float>(rank)});
  DeviceFloats all(std::vector<float>(static_cast<size_t>(size), -1.0f));
  comm.all_gather(mine.data(), all.data(), 1, NcclType::kFloat32, nullptr);
  NcclComm::synchronize(nullptr);

  const float total = size * (size + 1) / 2.0f;
  EXPECT_EQ(sum.host(), (std::vector<float>{total, 10 * total}));
  EXPECT_EQ(max.host(), std::vector<float>{static_cast<float>(size - 1)});
  EXPECT_EQ(root.host(), std::vector<float>{42.0f});
  std::vector<float> ranks(static_cast<size_t>(size));
  for (int r = 0; r < size; ++r) ranks[static_cast<size_t>(r)] = static_cast<float>(r);
  EXPECT_EQ(all.host(), ranks);
}

TEST(NcclComm, AOneRankCommunicatorPerProcessSharesOneDevice) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  MPI_Comm alone = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank(), 0, &alone);
  {
    NcclComm comm(alone, 0);
    DeviceFloats values({3.0f});
    comm.all_reduce(values.data(), 1, NcclType::kFloat32, NcclOp::kSum, nullptr);
    NcclComm::synchronize(nullptr);
    EXPECT_EQ(values.host(), std::vector<float>{3.0f});
  }
  MPI_Comm_free(&alone);
}

}  // namespace
}  // namespace ptqat::distributed
