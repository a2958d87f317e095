#include "datasets/nuscenes/npy.h"

#include <cctype>
#include <cstring>
#include <set>
#include <string_view>
#include <utility>

#include "core/error.h"

// .npy data is copied as-is into tensors; only '<' (little-endian) and '|' dtypes are supported,
// which is what numpy writes on every common platform.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ptqat reads .npy data without swapping");

namespace ptqat::datasets {

namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kNpyMagicSize = 6;
// numpy aligns the start of the data to this many bytes (numpy/lib/format.py ARRAY_ALIGN).
constexpr size_t kNpyAlign = 64;

/// The dtypes ptqat converts in both directions.
struct DtypeDescr {
  torch::ScalarType type;
  const char* descr;
};
constexpr DtypeDescr kDtypeDescrs[] = {
    {torch::kUInt8, "|u1"}, {torch::kBool, "|b1"},    {torch::kInt32, "<i4"},
    {torch::kInt64, "<i8"}, {torch::kFloat32, "<f4"}, {torch::kFloat64, "<f8"},
};
constexpr char kSupportedDescrs[] = "'|u1', '|b1', '<u2', '<i4', '<i8', '<f4', '<f8'";

/// Whether `c` is one of `set`; unlike strchr, never true for '\0'.
bool is_one_of(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

/// Reads the python dict literal of a .npy header, e.g.
/// `{'descr': '<u2', 'fortran_order': False, 'shape': (8347,), }`, in any key order and spacing.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const std::string& label) : text_(text), label_(label) {}

  void parse(NpyArray& array) {
    std::set<std::string> seen;
    skip_space();
    expect('{', "'{' opening the header dict");
    while (true) {
      skip_space();
      if (consume('}')) break;
      const std::string key = parse_string();
      PTQAT_CHECK(seen.insert(key).second, DataError,
                  "{}: .npy header: expected each key once, got '{}' twice", label_, key);
      skip_space();
      expect(':', "':' after a dict key");
      skip_space();
      if (key == "descr") {
        if (peek() == '[') fail("a dtype string (structured dtypes are not supported)");
        array.descr = parse_string();
      } else if (key == "fortran_order") {
        array.fortran_order = parse_bool();
      } else if (key == "shape") {
        array.shape = parse_shape();
      } else {
        PTQAT_FAIL(DataError,
                   "{}: .npy header: expected only the keys 'descr', 'fortran_order' and 'shape', "
                   "got '{}'",
                   label_, key);
      }
      skip_space();
      if (consume(',')) continue;  // python's repr leaves a trailing comma before '}'
      expect('}', "',' or '}' after a dict value");
      break;
    }
    skip_space();
    if (pos_ != text_.size()) fail("only padding after the header dict");
    for (const char* key : {"descr", "fortran_order", "shape"}) {
      PTQAT_CHECK(seen.count(key) == 1, DataError,
                  "{}: .npy header: expected the keys 'descr', 'fortran_order' and 'shape', got no "
                  "'{}'",
                  label_, key);
    }
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool consume(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c, const char* what) {
    if (!consume(c)) fail(what);
  }
  void skip_space() {
    while (pos_ < text_.size() && is_one_of(text_[pos_], " \t\r\n")) ++pos_;
  }

  [[noreturn]] void fail(const char* expected) const {
    const std::string got =
        pos_ < text_.size() ? fmt::format("'{}'", text_.substr(pos_, 24)) : "the end of the header";
    PTQAT_FAIL(DataError, "{}: .npy header: expected {} at offset {}, got {}", label_, expected,
               pos_, got);
  }

  std::string parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("a quoted string");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("a closed string");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    // dtype strings and numpy's keys never hold escapes; refusing them keeps the parser small.
    if (value.find('\\') != std::string::npos) fail("a string without escapes");
    pos_ = end + 1;
    return value;
  }

  bool parse_bool() {
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    fail("True or False");
  }

  std::vector<int64_t> parse_shape() {
    // numpy writes a tuple; a list is accepted too since it is the same thing to a reader.
    const char close = peek() == '(' ? ')' : ']';
    if (!consume('(') && !consume('[')) fail("a shape tuple");
    std::vector<int64_t> shape;
    while (true) {
      skip_space();
      if (consume(close)) break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("a non-negative dimension");
      int64_t dim = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (dim > (INT64_MAX - 9) / 10) fail("a dimension that fits in int64");
        dim = dim * 10 + (text_[pos_++] - '0');
      }
      consume('L');  // python 2 wrote long integers as 200L
      shape.push_back(dim);
      skip_space();
      if (consume(',')) continue;
      if (!consume(close)) fail("',' or the end of the shape tuple");
      break;
    }
    return shape;
  }

  std::string_view text_;
  const std::string& label_;
  size_t pos_ = 0;
};

/// Bytes per item of a numpy dtype string: byte order, kind letter, size (e.g. '<f4'); unicode
/// ('<U8') counts 4-byte characters and datetimes carry a unit ('<M8[ns]').
uint64_t npy_item_size(const std::string& descr, const std::string& label) {
  const auto bad = [&] {
    return DataError(fmt::format(
        "{}: expected a fixed-size numpy dtype (e.g. '<f4', '|u1'), got descr '{}'", label, descr));
  };
  if (descr.size() < 3 || !is_one_of(descr[0], "<>|=")) throw bad();
  size_t end = 2;
  uint64_t size = 0;
  while (end < descr.size() && std::isdigit(static_cast<unsigned char>(descr[end])) &&
         size < 1000000)
    size = size * 10 + static_cast<uint64_t>(descr[end++] - '0');
  if (end == 2 || size == 0 || (end < descr.size() && descr[end] != '[')) throw bad();
  if (is_one_of(descr[1], "biufcSVaMm")) return size;
  if (descr[1] == 'U') return 4 * size;
  throw bad();  // 'O' (pickled objects) and anything else without a fixed item size
}

}  // namespace

std::string npy_shape_text(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);  // python's one-tuple
  return fmt::format("({})", fmt::join(shape, ", "));
}

torch::Tensor NpyArray::to_tensor() const {
  PTQAT_CHECK(!fortran_order, DataError,
              "{}: expected a C-order array, got fortran_order=True (Fortran-order .npy arrays are "
              "not supported)",
              label);
  const bool widen_u2 = descr == "<u2";
  torch::ScalarType type = torch::kInt32;
  uint64_t item_size = 2;
  if (!widen_u2) {
    const DtypeDescr* entry = nullptr;
    for (const DtypeDescr& candidate : kDtypeDescrs)
      if (descr == candidate.descr) entry = &candidate;
    PTQAT_CHECK(entry != nullptr, DataError, "{}: expected dtype descr one of {}, got '{}'", label,
                kSupportedDescrs, descr);
    type = entry->type;
    item_size = c10::elementSize(type);
  }
  torch::Tensor tensor = torch::empty(shape, type);
  const auto count = static_cast<uint64_t>(tensor.numel());
  PTQAT_CHECK(bytes.size() == count * item_size, DataError,
              "{}: expected {} data bytes for shape {} of '{}', got {}", label, count * item_size,
              npy_shape_text(shape), descr, bytes.size());
  if (widen_u2) {
    // LibTorch 1.13 has no uint16; int32 holds every value (panoptic labels reach 31 * 1000 + id).
    int32_t* out = tensor.data_ptr<int32_t>();
    for (uint64_t i = 0; i < count; ++i) {
      uint16_t value;
      std::memcpy(&value, bytes.data() + 2 * i, sizeof value);
      out[i] = value;
    }
    return tensor;
  }
  if (type == torch::kBool) {
    // A torch bool must be 0 or 1; any other byte would be undefined behaviour downstream.
    for (uint64_t i = 0; i < count; ++i)
      PTQAT_CHECK(bytes[i] <= 1, DataError, "{}: expected bool bytes 0 or 1, got {} at item {}",
                  label, bytes[i], i);
  }
  if (count > 0) std::memcpy(tensor.data_ptr(), bytes.data(), bytes.size());
  return tensor;
}

NpyArray parse_npy(const uint8_t* data, size_t size, const std::string& label) {
  PTQAT_CHECK(size >= kNpyMagicSize + 4 && std::memcmp(data, kNpyMagic, kNpyMagicSize) == 0,
              DataError, "{}: expected a .npy array starting with \\x93NUMPY, got {}", label,
              size < kNpyMagicSize + 4 ? fmt::format("only {} bytes", size) : "other bytes");
  const uint8_t major = data[6];
  const uint8_t minor = data[7];
  PTQAT_CHECK(major >= 1 && major <= 3 && minor == 0, DataError,
              "{}: expected .npy format version 1.0, 2.0 or 3.0, got {}.{}", label, major, minor);
  // Version 1.0 stores the header length as uint16, 2.0 and 3.0 (utf-8 header) as uint32.
  const size_t prefix = major == 1 ? kNpyMagicSize + 4 : kNpyMagicSize + 6;
  PTQAT_CHECK(size >= prefix, DataError, "{}: expected a {}-byte .npy prefix, got {} bytes", label,
              prefix, size);
  uint64_t header_size = uint64_t{data[8]} | uint64_t{data[9]} << 8;
  if (major > 1) header_size |= uint64_t{data[10]} << 16 | uint64_t{data[11]} << 24;
  PTQAT_CHECK(header_size <= size - prefix, DataError,
              "{}: expected a {}-byte .npy header, got only {} bytes after the prefix", label,
              header_size, size - prefix);

  NpyArray array;
  array.label = label;
  NpyHeaderParser(std::string_view(reinterpret_cast<const char*>(data) + prefix, header_size),
                  label)
      .parse(array);
  uint64_t expected = npy_item_size(array.descr, label);
  for (int64_t dim : array.shape) {
    PTQAT_CHECK(!__builtin_mul_overflow(expected, static_cast<uint64_t>(dim), &expected), DataError,
                "{}: expected a shape whose size fits in 64 bits, got {}", label,
                npy_shape_text(array.shape));
  }
  const uint64_t data_size = size - prefix - header_size;
  PTQAT_CHECK(data_size == expected, DataError,
              "{}: expected {} data bytes (shape {} of '{}'), got {}", label, expected,
              npy_shape_text(array.shape), array.descr, data_size);
  array.bytes.assign(data + prefix + header_size, data + size);
  return array;
}

const char* npy_descr(torch::ScalarType type) {
  for (const DtypeDescr& entry : kDtypeDescrs)
    if (entry.type == type) return entry.descr;
  return nullptr;
}

std::vector<uint8_t> npy_image(const torch::Tensor& tensor) {
  const char* descr = tensor.defined() ? npy_descr(tensor.scalar_type()) : nullptr;
  PTQAT_ASSERT(descr != nullptr && tensor.device().is_cpu() && tensor.is_contiguous(),
               "npy_image: expected a contiguous CPU tensor of uint8, bool, int32, int64, "
               "float32 or float64, got {}",
               tensor.defined() ? fmt::format("{} on {}{}", c10::toString(tensor.scalar_type()),
                                              tensor.device().str(),
                                              tensor.is_contiguous() ? "" : " (not contiguous)")
                                : "an undefined tensor");
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   descr, npy_shape_text(tensor.sizes().vec()));
  // numpy/lib/format.py _wrap_header: pad with 1..64 spaces so that magic + version + length +
  // header + '\n' ends on a 64-byte boundary (a full 64 when it already would).
  const size_t prefix = kNpyMagicSize + 2 + 2;
  header.append(kNpyAlign - (prefix + header.size() + 1) % kNpyAlign, ' ');
  header.push_back('\n');
  PTQAT_ASSERT(header.size() <= UINT16_MAX, "a v1.0 .npy header of {} bytes", header.size());
  const auto data_bytes = static_cast<size_t>(tensor.nbytes());
  std::vector<uint8_t> image(prefix + header.size() + data_bytes);
  std::memcpy(image.data(), kNpyMagic, kNpyMagicSize);
  image[6] = 1;  // format version 1.0
  image[7] = 0;
  image[8] = static_cast<uint8_t>(header.size() & 0xff);
  image[9] = static_cast<uint8_t>(header.size() >> 8);
  std::memcpy(image.data() + prefix, header.data(), header.size());
  if (data_bytes > 0)
    std::memcpy(image.data() + prefix + header.size(), tensor.data_ptr(), data_bytes);
  return image;
}

}  // namespace ptqat::datasets
