#include "quant/quant_spec.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/quant/quant_spec_util.h"

namespace ptqat::quant {
namespace {

QuantSpec spec(int64_t bits, bool symmetric, bool is_signed, bool narrow_range) {
  return test::grid_spec(bits, symmetric, is_signed, narrow_range);
}

TEST(QuantSpec, DefaultIsTensorRtNarrowInt8) {
  const QuantSpec s;
  EXPECT_EQ(s.quant_min(), -127);
  EXPECT_EQ(s.quant_max(), 127);
}

TEST(QuantSpec, RangeOfEveryCombinationAtFourBits) {
  EXPECT_EQ(spec(4, true, true, true).quant_min(), -7);
  EXPECT_EQ(spec(4, true, true, true).quant_max(), 7);
  EXPECT_EQ(spec(4, true, true, false).quant_min(), -8);
  EXPECT_EQ(spec(4, true, true, false).quant_max(), 7);
  for (bool narrow : {true, false}) {
    // Unsigned grids keep all 2^b codes; asymmetric signed grids are never narrowed.
    EXPECT_EQ(spec(4, true, false, narrow).quant_min(), 0);
    EXPECT_EQ(spec(4, true, false, narrow).quant_max(), 15);
    EXPECT_EQ(spec(4, false, false, narrow).quant_min(), 0);
    EXPECT_EQ(spec(4, false, false, narrow).quant_max(), 15);
    EXPECT_EQ(spec(4, false, true, narrow).quant_min(), -8);
    EXPECT_EQ(spec(4, false, true, narrow).quant_max(), 7);
  }
}

TEST(QuantSpec, RangeAtTheBitLimits) {
  EXPECT_EQ(spec(2, true, true, true).quant_min(), -1);
  EXPECT_EQ(spec(2, true, true, true).quant_max(), 1);
  EXPECT_EQ(spec(2, true, true, false).quant_min(), -2);
  EXPECT_EQ(spec(16, false, false, false).quant_max(), 65535);
  EXPECT_EQ(spec(16, true, true, true).quant_min(), -32767);
  EXPECT_EQ(spec(16, true, true, false).quant_min(), -32768);
}

TEST(QuantSpec, BitsOutOfRangeIsConfigErrorNamingFieldAndRange) {
  for (int64_t bits : {1, 17, 0, -8}) {
    QuantSpec s;
    s.bits = bits;
    try {
      s.validate();
      FAIL() << "bits " << bits << " accepted";
    } catch (const ConfigError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("bits"), std::string::npos) << message;
      EXPECT_NE(message.find("[2, 16]"), std::string::npos) << message;
      EXPECT_NE(message.find(std::to_string(bits)), std::string::npos) << message;
    }
  }
  for (int64_t bits : {2, 8, 16}) {
    QuantSpec s;
    s.bits = bits;
    EXPECT_NO_THROW(s.validate());
  }
}

TEST(QuantSpec, NegativeAxisIsConfigError) {
  QuantSpec s;
  s.per_channel = true;
  s.axis = -1;
  EXPECT_THROW(s.validate(), ConfigError);
  s.axis = 1;
  EXPECT_NO_THROW(s.validate());
}

}  // namespace
}  // namespace ptqat::quant
