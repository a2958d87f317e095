#include "core/hdf5.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::core::h5 {

TEST(Hdf5, WritesAndReadsBackDatasetsGroupsAndAttributes) {
  testing::TempDir dir;
  const std::string path = dir.file("results.h5");
  {
    File file = File::create(path);
    Group run = file.create_group("run_0");
    run.write("metrics", std::vector<double>{0.25, 0.5, 0.75, 1.0, 1.25, 1.5}, {2, 3});
    run.write("steps", std::vector<int64_t>{10, 20, -30}, {3});
    run.set_attribute("config", "[data]\nnsweeps = 10\n");
    file.flush();
  }
  File file = File::open_read_only(path);
  ASSERT_TRUE(file.exists("run_0"));
  EXPECT_FALSE(file.exists("run_1"));
  Group run = file.open_group("run_0");
  EXPECT_EQ(run.read_doubles("metrics"), (std::vector<double>{0.25, 0.5, 0.75, 1.0, 1.25, 1.5}));
  EXPECT_EQ(run.shape("metrics"), (std::vector<hsize_t>{2, 3}));
  EXPECT_EQ(run.read_int64s("steps"), (std::vector<int64_t>{10, 20, -30}));
  EXPECT_EQ(run.attribute("config"), "[data]\nnsweeps = 10\n");
}

TEST(Hdf5, OpeningANonHdf5FileNamesTheFile) {
  testing::TempDir dir;
  const std::string path = dir.file("not.h5");
  testing::write_text(path, "plain text");
  try {
    File::open_read_only(path);
    FAIL() << "no throw";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

TEST(Hdf5, ReadingAMissingDatasetIsAnIoError) {
  testing::TempDir dir;
  File file = File::create(dir.file("empty.h5"));
  EXPECT_THROW(file.read_doubles("absent"), IoError);
}

}  // namespace ptqat::core::h5
