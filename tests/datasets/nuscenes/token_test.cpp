#include "datasets/nuscenes/token.h"

#include <gtest/gtest.h>

namespace ptqat::datasets {

TEST(Token, ParsesHexRoundTripsAndRejectsTheRest) {
  const auto token = Token::parse("8fbf6288542e0dd48f6190ed158f3b1c");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->high, 0x8fbf6288542e0dd4ULL);
  EXPECT_EQ(token->low, 0x8f6190ed158f3b1cULL);
  EXPECT_EQ(token->hex(), "8fbf6288542e0dd48f6190ed158f3b1c");
  EXPECT_EQ(Token::parse("8FBF6288542E0DD48F6190ED158F3B1C"), token);
  EXPECT_TRUE(Token::parse("")->is_null());
  EXPECT_EQ(Token::parse("")->hex(), "");
  EXPECT_FALSE(Token::parse("8fbf6288542e0dd48f6190ed158f3b1"));   // 31 digits
  EXPECT_FALSE(Token::parse("8fbf6288542e0dd48f6190ed158f3b1g"));  // not hex
  EXPECT_FALSE(Token::parse("4"));  // visibility tokens are not interned
}

}  // namespace ptqat::datasets
