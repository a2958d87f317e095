#pragma once
// nuScenes tokens (32 hex digits) interned as 128-bit integers: ~2.6M sample_data and 1.2M
// annotation tokens in v1.0-trainval fit in a fraction of the memory strings would take, and
// simdjson's string views die at the next parse, so they must be copied somewhere anyway.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ptqat::datasets {

/// A 32-hex-digit token. The empty JSON string "" (an absent foreign key) is the null token.
struct Token {
  uint64_t high = 0;
  uint64_t low = 0;

  bool is_null() const { return high == 0 && low == 0; }
  /// Lower-case hex, or "" for the null token.
  std::string hex() const;

  /// Parses 32 hex digits (either case) or "" (null); anything else gives nullopt.
  static std::optional<Token> parse(std::string_view text);

  friend bool operator==(const Token& a, const Token& b) {
    return a.high == b.high && a.low == b.low;
  }
  friend bool operator!=(const Token& a, const Token& b) { return !(a == b); }
  friend bool operator<(const Token& a, const Token& b) {
    return a.high != b.high ? a.high < b.high : a.low < b.low;
  }
};

struct TokenHash {
  size_t operator()(const Token& token) const {
    // Tokens are already uniformly random hex; mixing the halves is enough.
    return static_cast<size_t>(token.high ^ (token.low * 0x9E3779B97F4A7C15ULL));
  }
};

}  // namespace ptqat::datasets
