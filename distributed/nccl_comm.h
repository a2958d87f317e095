#pragma once
// NcclComm: the thin layer over NCCL and the CUDA runtime that the NCCL communicator of CUDA
// tensors stands on (docs/distributed.md). No LibTorch here: it builds against the CUDA toolkit
// and NCCL alone (/usr/local/cuda), so it compiles and is tested (skipped without a GPU) on any
// machine with the toolkit; the torch-facing communicator needs a CUDA LibTorch.
//
// The NCCL unique id travels over MPI: rank 0 of the MPI group creates it and broadcasts it, and
// every rank joins the NCCL communicator with its MPI rank.

#include <mpi.h>

#include <cstddef>

struct ncclComm;  // nccl.h's ncclComm_t is ncclComm*; nccl.h stays out of this header

namespace ptqat::distributed {

/// CUDA devices this process sees; 0 without a driver or device (not an error).
int cuda_device_count();

enum class NcclType { kFloat32, kFloat64, kFloat16, kBFloat16, kInt32, kInt64, kUInt8, kInt8 };
enum class NcclOp { kSum, kMax };

class NcclComm {
 public:
  /// Collective over `group`: every rank selects `device` (cudaSetDevice) and joins one NCCL
  /// communicator with its rank in `group`. DistError naming the call on a CUDA or NCCL failure.
  NcclComm(MPI_Comm group, int device);
  ~NcclComm();
  NcclComm(NcclComm&& other) noexcept;
  NcclComm& operator=(NcclComm&& other) noexcept;
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int device() const { return device_; }

  /// In place, on device memory, enqueued on `stream` (a cudaStream_t; nullptr: the legacy
  /// default stream). Returns without waiting: see synchronize().
  void all_reduce(void* data, size_t count, NcclType type, NcclOp op, void* stream);
  void broadcast(void* data, size_t count, NcclType type, int root, void* stream);
  /// `receive` holds size() x count elements, rank r's at r x count.
  void all_gather(const void* send, void* receive, size_t count, NcclType type, void* stream);

  /// Waits for the work enqueued on `stream`.
  static void synchronize(void* stream);

 private:
  ncclComm* comm_ = nullptr;
  int rank_ = 0;
  int size_ = 1;
  int device_ = 0;
};

}  // namespace ptqat::distributed
