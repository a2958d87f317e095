#include "core/hdf5.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/support/expect_error.h"
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

TEST(Hdf5, ScalarsAndEmptyDatasetsRoundTrip) {
  testing::TempDir dir;
  const std::string path = dir.file("scalars.h5");
  {
    File file = File::create(path);
    file.write_scalar("wall_time_s", 12.5);
    file.write_scalar("parameters", int64_t{-4096});
    file.write("no_steps", std::vector<int64_t>{}, {0});
    file.write("no_values", std::vector<double>{}, {0});
  }
  File file = File::open_read_only(path);
  EXPECT_EQ(file.read_double("wall_time_s"), 12.5);
  EXPECT_EQ(file.read_int64("parameters"), -4096);
  EXPECT_EQ(file.shape("wall_time_s"), std::vector<hsize_t>{});  // rank 0: h5py's ds[()]
  EXPECT_EQ(file.read_int64s("no_steps"), std::vector<int64_t>{});
  EXPECT_EQ(file.read_doubles("no_values"), std::vector<double>{});
  EXPECT_EQ(file.shape("no_values"), std::vector<hsize_t>{0});
}

TEST(Hdf5, ReadingOneValueFromAVectorIsAnIoErrorNamingTheDataset) {
  testing::TempDir dir;
  File file = File::create(dir.file("vector.h5"));
  file.write("pair", std::vector<double>{1, 2}, {2});
  testing::expect_error<IoError>([&] { file.read_double("pair"); }, {"vector.h5", "pair", "2"});
}

TEST(Hdf5, StringDatasetsAreVariableLengthUtf8AndRoundTrip) {
  testing::TempDir dir;
  const std::string path = dir.file("strings.h5");
  const std::vector<std::string> classes{"car", "Fußgänger", "", "traffic_cone"};
  const std::string config = "[train]\nepochs = 2\nname = \"π\"\n";
  {
    File file = File::create(path);
    file.write_strings("classes", classes);
    file.write_strings("none", {});
    file.write_string("config", config);
  }
  File file = File::open_read_only(path);
  EXPECT_EQ(file.read_strings("classes"), classes);
  EXPECT_EQ(file.shape("classes"), std::vector<hsize_t>{4});
  EXPECT_EQ(file.read_strings("none"), std::vector<std::string>{});
  EXPECT_EQ(file.read_string("config"), config);
  EXPECT_EQ(file.shape("config"), std::vector<hsize_t>{});
  // What docs/results.md promises h5py readers: variable-length strings in UTF-8.
  for (const char* name : {"classes", "config"}) {
    Handle dataset(H5Dopen2(file.id(), name, H5P_DEFAULT), H5Dclose);
    Handle type(H5Dget_type(dataset.id()), H5Tclose);
    EXPECT_GT(H5Tis_variable_str(type.id()), 0) << name;
    EXPECT_EQ(H5Tget_cset(type.id()), H5T_CSET_UTF8) << name;
  }
}

TEST(Hdf5, ReadsFixedLengthStringDatasets) {
  testing::TempDir dir;
  File file = File::create(dir.file("fixed.h5"));
  // Written with the C API as another tool would: 5-byte space-padded and NUL-padded strings.
  for (const H5T_str_t pad : {H5T_STR_SPACEPAD, H5T_STR_NULLPAD}) {
    const std::string name = pad == H5T_STR_SPACEPAD ? "spaces" : "nuls";
    const char padding = pad == H5T_STR_SPACEPAD ? ' ' : '\0';
    std::string data = std::string("car") + padding + padding + "truck";
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    ASSERT_GE(H5Tset_size(type.id(), 5), 0);
    ASSERT_GE(H5Tset_strpad(type.id(), pad), 0);
    const hsize_t dims[1] = {2};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle dataset(H5Dcreate2(file.id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT,
                              H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose);
    ASSERT_GE(H5Dwrite(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), 0);
    EXPECT_EQ(file.read_strings(name), (std::vector<std::string>{"car", "truck"})) << name;
  }
}

TEST(Hdf5, StringsWithANulByteAreRefused) {
  testing::TempDir dir;
  File file = File::create(dir.file("nul.h5"));
  const std::string cut("a\0b", 3);
  testing::expect_error<IoError>([&] { file.write_strings("names", {cut}); }, {"names", "NUL"});
  testing::expect_error<IoError>([&] { file.set_attribute_utf8("key", cut); }, {"key", "NUL"});
}

TEST(Hdf5, Utf8AttributesReplaceAndReadBackLikeFixedOnes) {
  testing::TempDir dir;
  File file = File::create(dir.file("attributes.h5"));
  EXPECT_FALSE(file.has_attribute("stage"));
  file.set_attribute("stage", "calibrate");
  EXPECT_EQ(file.attribute("stage"), "calibrate");
  file.set_attribute_utf8("stage", "fine_tune – ü");
  EXPECT_TRUE(file.has_attribute("stage"));
  EXPECT_EQ(file.attribute("stage"), "fine_tune – ü");
  file.set_attribute_utf8("parent_key", "");
  EXPECT_EQ(file.attribute("parent_key"), "");
  file.write("numbers", std::vector<double>{1}, {1});
  testing::expect_error<IoError>([&] { file.read_strings("numbers"); }, {"numbers", "strings"});
}

TEST(Hdf5, ChildrenAreListedInNameOrder) {
  testing::TempDir dir;
  File file = File::create(dir.file("children.h5"));
  EXPECT_EQ(file.children(), std::vector<std::string>{});
  file.create_group("metrics");
  file.write_scalar("b", 1.0);
  file.write_strings("a", {"x"});
  EXPECT_EQ(file.children(), (std::vector<std::string>{"a", "b", "metrics"}));
}

TEST(Hdf5, CopyCopiesAGroupWithEverythingBelowItToAnotherFile) {
  testing::TempDir dir;
  const std::string source_path = dir.file("record.h5");
  const std::string target_path = dir.file("results.h5");
  {
    File source = File::create(source_path);
    Group run = source.create_group("run");
    run.set_attribute_utf8("stage", "evaluate");
    run.create_group("metrics").write_scalar("nds", 0.5);
    run.write_strings("classes", {"car", "bus"});
    File target = File::create(target_path);
    source.copy("run", target.create_group("runs"), "k1");
    testing::expect_error<IoError>([&] { source.copy("absent", target, "k2"); },
                                   {source_path, "absent", target_path, "H5Ocopy"});
  }
  File target = File::open_read_only(target_path);
  Group run = target.open_group("runs").open_group("k1");
  EXPECT_EQ(run.attribute("stage"), "evaluate");
  EXPECT_EQ(run.open_group("metrics").read_double("nds"), 0.5);
  EXPECT_EQ(run.read_strings("classes"), (std::vector<std::string>{"car", "bus"}));
}

}  // namespace ptqat::core::h5
