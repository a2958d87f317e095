#include "datasets/nuscenes/npy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/support/expect_error.h"

namespace ptqat::datasets {
namespace {

using testing::expect_error;

/// A .npy image built by hand: the header is padded as numpy pads it (to 64 bytes with '\n').
std::string npy_file(int major, std::string header, const std::string& data) {
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  if (major > 1) out += std::string(2, '\0');
  return out + header + data;
}

NpyArray parse(const std::string& image, const std::string& label = "test.npy") {
  return parse_npy(reinterpret_cast<const uint8_t*>(image.data()), image.size(), label);
}

std::string le32(uint32_t v) {
  return {static_cast<char>(v & 0xff), static_cast<char>(v >> 8 & 0xff),
          static_cast<char>(v >> 16 & 0xff), static_cast<char>(v >> 24)};
}

TEST(Npy, ParsesVersion1Int32Matrix) {
  const std::string data = le32(1) + le32(2) + le32(3) + le32(4) + le32(5) + le32(0xFFFFFFFF);
  const NpyArray array =
      parse(npy_file(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", data));
  EXPECT_EQ(array.descr, "<i4");
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_FALSE(array.fortran_order);
  EXPECT_EQ(array.bytes.size(), 24u);
  const torch::Tensor tensor = array.to_tensor();
  EXPECT_TRUE(
      torch::equal(tensor, torch::tensor({1, 2, 3, 4, 5, -1}, torch::kInt32).reshape({2, 3})));
}

TEST(Npy, ParsesVersion2And3Headers) {
  for (int major : {2, 3}) {
    const NpyArray array = parse(npy_file(
        major, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", le32(7) + le32(0)));
    EXPECT_TRUE(torch::equal(array.to_tensor(), torch::tensor({int64_t{7}})));
  }
}

TEST(Npy, ParsesAnyKeyOrderSpacingAndQuotes) {
  const NpyArray array =
      parse(npy_file(1, "{ \"shape\":(200,200,16) ,'fortran_order' :False,'descr':'|u1'}",
                     std::string(640000, '\1')));
  EXPECT_EQ(array.shape, (std::vector<int64_t>{200, 200, 16}));
  EXPECT_EQ(array.descr, "|u1");
  EXPECT_EQ(array.to_tensor().sum().item<int64_t>(), 640000);
}

TEST(Npy, ParsesOneTupleAndScalar) {
  // 2.5 as float64 is 0x4004000000000000.
  const std::string two_and_a_half = le32(0) + le32(0x40040000);
  const NpyArray scalar =
      parse(npy_file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", two_and_a_half));
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.to_tensor().dim(), 0);
  EXPECT_DOUBLE_EQ(scalar.to_tensor().item<double>(), 2.5);
  const NpyArray five = parse(npy_file(
      1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", std::string(20, '\0')));
  EXPECT_EQ(five.shape, (std::vector<int64_t>{5}));
}

TEST(Npy, Uint16WidensToInt32) {
  // 1, 65535 and 17003 (car 17 * 1000 + instance 3) as little-endian uint16.
  const std::string data("\x01\x00\xFF\xFF\x6B\x42", 6);
  const torch::Tensor tensor =
      parse(npy_file(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }", data))
          .to_tensor();
  EXPECT_EQ(tensor.scalar_type(), torch::kInt32);
  EXPECT_TRUE(torch::equal(tensor, torch::tensor({1, 65535, 17003}, torch::kInt32)));
}

TEST(Npy, BoolBytesMustBeZeroOrOne) {
  const std::string header = "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }";
  const torch::Tensor ok = parse(npy_file(1, header, std::string("\1\0\1", 3))).to_tensor();
  EXPECT_TRUE(torch::equal(ok, torch::tensor({true, false, true})));
  const NpyArray bad = parse(npy_file(1, header, std::string("\1\2\1", 3)), "bad.npy");
  expect_error<DataError>([&] { bad.to_tensor(); }, {"bad.npy", "0 or 1"});
}

TEST(Npy, DataSizeMismatchIsDataErrorNamingLabel) {
  // (3,) float32 needs 3 * 4 = 12 bytes; 8 are given.
  const std::string image = npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                                     std::string(8, '\0'));
  expect_error<DataError>([&] { parse(image, "x.npz:a.npy"); },
                          {"x.npz:a.npy", "expected 12 data bytes", "got 8"});
}

TEST(Npy, BadMagicVersionOrHeaderIsDataError) {
  const std::string good =
      npy_file(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", "A");
  std::string magic = good;
  magic[1] = 'X';
  expect_error<DataError>([&] { parse(magic, "m.npy"); }, {"m.npy", "\\x93NUMPY"});
  std::string version = good;
  version[6] = 4;
  expect_error<DataError>([&] { parse(version, "v.npy"); }, {"v.npy", "got 4.0"});
  expect_error<DataError>([&] { parse(good.substr(0, 7), "short.npy"); }, {"short.npy"});
  expect_error<DataError>(
      [&] { parse(npy_file(1, "{'descr': '|u1', 'shape': (1,), }", "A"), "k.npy"); },
      {"k.npy", "got no 'fortran_order'"});
  expect_error<DataError>(
      [&] { parse(npy_file(1, "{'descr': '|u1', 'fortran_order': Maybe, 'shape': (1,), }", "A")); },
      {"True or False"});
  expect_error<DataError>(
      [&] {
        parse(npy_file(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                       "AAAA"));
      },
      {"structured dtypes are not supported"});
  expect_error<DataError>(
      [&] { parse(npy_file(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "A")); },
      {"fixed-size numpy dtype"});
}

TEST(Npy, FortranOrderAndUnsupportedDtypeFailInToTensor) {
  const NpyArray fortran = parse(
      npy_file(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", "ABCD"), "f.npy");
  EXPECT_TRUE(fortran.fortran_order);
  expect_error<DataError>([&] { fortran.to_tensor(); }, {"f.npy", "not supported"});
  // complex64: 8 bytes per item, parsed but not converted.
  const NpyArray complex =
      parse(npy_file(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                     std::string(8, '\0')),
            "c.npy");
  expect_error<DataError>([&] { complex.to_tensor(); }, {"c.npy", "'<c8'"});
}

}  // namespace
}  // namespace ptqat::datasets
