// main() for GoogleTest suites that run under mpirun (ptqat_test_suite with MPI_RANKS).
//
// gtest_main cannot serve: MPI must start before the tests and finish after them, and mpirun
// judges the job by every rank's exit code, so a test that failed on any rank must fail the
// job on all of them. Only rank 0 prints gtest's progress; other ranks print just their
// failures, tagged with their rank, so the log reads like a one-process run.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "distributed/mpi_check.h"
#include "distributed/mpi_world.h"

namespace ptqat::testing {
namespace {

const distributed::MpiWorld* current_world = nullptr;

/// Replaces gtest's printer on ranks other than 0: silent unless a check fails.
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}

  // The name is kept from OnTestStart: asking UnitTest::current_test_info() inside
  // OnTestPartResult deadlocks, gtest holds its own mutex while it calls listeners.
  void OnTestStart(const ::testing::TestInfo& test) override {
    test_name_ = fmt::format("{}.{}", test.test_suite_name(), test.name());
  }
  void OnTestEnd(const ::testing::TestInfo& /*test*/) override { test_name_ = "(outside a test)"; }

  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    const std::string line =
        fmt::format("[rank {}] {} failed at {}:{}\n{}\n", rank_, test_name_,
                    result.file_name() != nullptr ? result.file_name() : "unknown file",
                    result.line_number(), result.summary());
    // One write per failure so it does not interleave with rank 0's output.
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

 private:
  int rank_;
  std::string test_name_ = "(outside a test)";
};

}  // namespace

/// The world this run's main started; tests declare this function themselves.
const distributed::MpiWorld& mpi_world() { return *current_world; }

}  // namespace ptqat::testing

int main(int argc, char** argv) {
  using ptqat::distributed::abort_world;
  // Outside the try: the handler below needs MPI running to abort the job (mpi_world.h).
  ptqat::distributed::MpiWorld world(&argc, &argv);
  try {
    ptqat::testing::current_world = &world;
    ::testing::InitGoogleTest(&argc, argv);
    if (world.rank() != 0) {
      auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new ptqat::testing::RankFailurePrinter(world.rank()));
    }
    const int failed_here = RUN_ALL_TESTS() == 0 ? 0 : 1;
    int failed_anywhere = 0;
    PTQAT_MPI_CHECK(
        MPI_Allreduce(&failed_here, &failed_anywhere, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
    if (world.rank() == 0 && failed_anywhere != 0 && failed_here == 0) {
      std::fprintf(stderr, "error: tests failed on another rank, see its [rank r] lines above\n");
    }
    ptqat::testing::current_world = nullptr;
    return failed_anywhere;
  } catch (const std::exception& error) {
    // A rank that cannot finish the suite must not leave the others waiting in a collective.
    abort_world(error.what(), 1);
  }
}
