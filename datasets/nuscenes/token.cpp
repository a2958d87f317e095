#include "datasets/nuscenes/token.h"

namespace ptqat::datasets {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Token> Token::parse(std::string_view text) {
  if (text.empty()) return Token{};
  if (text.size() != 32) return std::nullopt;
  Token token;
  for (size_t i = 0; i < 32; ++i) {
    const int value = hex_value(text[i]);
    if (value < 0) return std::nullopt;
    uint64_t& half = i < 16 ? token.high : token.low;
    half = (half << 4) | static_cast<uint64_t>(value);
  }
  return token;
}

std::string Token::hex() const {
  if (is_null()) return "";
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(32, '0');
  for (int i = 0; i < 16; ++i) {
    text[i] = kDigits[(high >> (60 - 4 * i)) & 0xF];
    text[16 + i] = kDigits[(low >> (60 - 4 * i)) & 0xF];
  }
  return text;
}

}  // namespace ptqat::datasets
