#include "datasets/npz.h"

#include <zip.h>

#include <cctype>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>

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
// zlib's deflate cannot expand data by more than about 1032:1; a member claiming more is corrupt.
constexpr uint64_t kMaxDeflateRatio = 1032;

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

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

/// Closes an archive without writing anything: for reading, and for giving up on a write (libzip
/// writes to a temporary file, so the target is left untouched).
struct ZipDiscard {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipDiscard>;

/// Closes a member after a failed read; the error that got us here is the one reported.
struct ZipMemberClose {
  void operator()(zip_file_t* member) const { zip_fclose(member); }
};

/// Reads one member completely, with libzip's CRC check, into memory.
std::vector<uint8_t> read_member(zip_t* archive, zip_uint64_t index, const zip_stat_t& stat,
                                 const std::string& label) {
  PTQAT_CHECK(stat.comp_method == ZIP_CM_STORE || stat.comp_method == ZIP_CM_DEFLATE, DataError,
              "{}: expected a stored or deflated member (numpy writes only these), got zip "
              "compression method {}",
              label, stat.comp_method);
  // The sizes come from the central directory; a corrupt one must not make us allocate terabytes.
  const uint64_t limit =
      stat.comp_method == ZIP_CM_STORE ? stat.comp_size : stat.comp_size * kMaxDeflateRatio + 1024;
  PTQAT_CHECK(stat.size <= limit, DataError,
              "{}: expected at most {} bytes from {} compressed bytes, got a claimed size of {} "
              "(corrupt zip directory)",
              label, limit, stat.comp_size, stat.size);
  std::unique_ptr<zip_file_t, ZipMemberClose> member(zip_fopen_index(archive, index, 0));
  PTQAT_CHECK(member != nullptr, DataError, "{}: cannot open member: {}", label,
              zip_strerror(archive));
  std::vector<uint8_t> image(stat.size);
  uint64_t done = 0;
  while (done < stat.size) {
    const zip_int64_t got = zip_fread(member.get(), image.data() + done, stat.size - done);
    PTQAT_CHECK(got >= 0, DataError, "{}: corrupt member: {}", label,
                zip_file_strerror(member.get()));
    PTQAT_CHECK(got > 0, DataError, "{}: expected {} bytes, got {} (member ends early)", label,
                stat.size, done);
    done += static_cast<uint64_t>(got);
  }
  // libzip verifies the CRC when it reaches the end of the member's data; this read makes sure it
  // has, and that the member holds no more bytes than its directory entry says.
  uint8_t extra = 0;
  const zip_int64_t tail = zip_fread(member.get(), &extra, 1);
  PTQAT_CHECK(tail == 0, DataError, "{}: corrupt member: {}", label,
              tail < 0 ? std::string(zip_file_strerror(member.get()))
                       : fmt::format("expected {} bytes, got more", stat.size));
  const int closed = zip_fclose(member.release());
  PTQAT_CHECK(closed == 0, DataError, "{}: corrupt member: {}", label, zip_error_text(closed));
  return image;
}

const char* descr_for(torch::ScalarType type) {
  for (const DtypeDescr& entry : kDtypeDescrs)
    if (entry.type == type) return entry.descr;
  return nullptr;
}

/// A `.npy` v1.0 file image of a contiguous CPU tensor, byte for byte as numpy's np.save writes.
std::vector<uint8_t> npy_image(const torch::Tensor& tensor, const char* descr) {
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

/// 1980-01-01 00:00:00, the zip format's earliest date and the one numpy's savez stores (python
/// zipfile's default date_time). libzip turns the mtime into a DOS date with localtime, so the
/// time is built with mktime in local time: the stored bytes are the same in every time zone.
time_t fixed_zip_mtime() {
  std::tm time{};
  time.tm_year = 80;
  time.tm_mday = 1;
  time.tm_isdst = -1;
  return std::mktime(&time);
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

std::map<std::string, NpyArray> read_npz(const std::string& path) {
  int code = ZIP_ER_OK;
  ZipArchive archive(zip_open(path.c_str(), ZIP_RDONLY, &code));
  if (archive == nullptr) {
    // A file that cannot be opened at all is an I/O problem; anything libzip finds inside it
    // (no end-of-central-directory record, inconsistent entries) means the content is wrong.
    const bool io = code == ZIP_ER_NOENT || code == ZIP_ER_OPEN || code == ZIP_ER_MEMORY;
    if (io) PTQAT_FAIL(IoError, "{}: cannot open .npz: {}", path, zip_error_text(code));
    PTQAT_FAIL(DataError, "{}: expected a numpy .npz (zip archive), got {}", path,
               zip_error_text(code));
  }
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  PTQAT_CHECK(entries >= 0, DataError, "{}: zip_get_num_entries failed: {}", path,
              zip_strerror(archive.get()));
  PTQAT_CHECK(entries > 0, DataError,
              "{}: expected a numpy .npz with at least one .npy member, got an empty zip archive",
              path);

  std::map<std::string, NpyArray> arrays;
  for (zip_int64_t index = 0; index < entries; ++index) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    PTQAT_CHECK(zip_stat_index(archive.get(), index, 0, &stat) == 0, DataError,
                "{}: zip_stat_index({}) failed: {}", path, index, zip_strerror(archive.get()));
    constexpr zip_uint64_t kNeeded =
        ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    PTQAT_CHECK((stat.valid & kNeeded) == kNeeded, DataError,
                "{}: expected name, sizes and compression method of zip entry {}, got an "
                "incomplete entry",
                path, index);
    const std::string name = stat.name;
    const std::string label = fmt::format("{}:{}", path, name);
    constexpr std::string_view kSuffix = ".npy";
    PTQAT_CHECK(name.size() > kSuffix.size() &&
                    name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0,
                DataError, "{}: expected only .npy members in a numpy .npz, got member '{}'", path,
                name);
    const std::vector<uint8_t> image = read_member(archive.get(), index, stat, label);
    const bool inserted = arrays
                              .emplace(name.substr(0, name.size() - kSuffix.size()),
                                       parse_npy(image.data(), image.size(), label))
                              .second;
    PTQAT_CHECK(inserted, DataError, "{}: expected unique member names, got '{}' twice", path,
                name);
  }
  return arrays;
}

void write_npz(const std::string& path,
               const std::vector<std::pair<std::string, torch::Tensor>>& arrays, bool compress) {
  // libzip deletes an archive that would be left without entries instead of writing it.
  PTQAT_ASSERT(!arrays.empty(), "write_npz({}): expected at least one array", path);
  std::set<std::string> names;
  for (const auto& [name, tensor] : arrays) {
    PTQAT_ASSERT(!name.empty() && names.insert(name).second,
                 "write_npz({}): expected unique non-empty array names, got '{}'", path, name);
    PTQAT_ASSERT(tensor.defined() && descr_for(tensor.scalar_type()) != nullptr,
                 "write_npz({}): array '{}': expected uint8, bool, int32, int64, float32 or "
                 "float64, got {}",
                 path, name, tensor.defined() ? c10::toString(tensor.scalar_type()) : "undefined");
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    PTQAT_CHECK(!error, IoError, "{}: cannot create folder {}: {}", path, parent.string(),
                error.message());
  }

  int code = ZIP_ER_OK;
  ZipArchive archive(zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code));
  PTQAT_CHECK(archive != nullptr, IoError, "{}: cannot create .npz: {}", path,
              zip_error_text(code));
  const auto check = [&](bool ok, const char* call, const std::string& name) {
    PTQAT_CHECK(ok, IoError, "{}: {} failed for '{}': {}", path, call, name,
                zip_strerror(archive.get()));
  };
  // libzip reads the member data only in zip_close, so the images must live until then.
  std::vector<std::vector<uint8_t>> images;
  images.reserve(arrays.size());
  const time_t mtime = fixed_zip_mtime();
  for (const auto& [name, tensor] : arrays) {
    const torch::Tensor cpu = tensor.to(torch::kCPU).contiguous();
    images.push_back(npy_image(cpu, descr_for(cpu.scalar_type())));
    const std::string member = name + ".npy";
    zip_source_t* source =
        zip_source_buffer(archive.get(), images.back().data(), images.back().size(), 0);
    check(source != nullptr, "zip_source_buffer", member);
    const zip_int64_t index = zip_file_add(archive.get(), member.c_str(), source, ZIP_FL_ENC_GUESS);
    if (index < 0) zip_source_free(source);  // on success the archive owns the source
    check(index >= 0, "zip_file_add", member);
    const auto entry = static_cast<zip_uint64_t>(index);
    check(zip_set_file_compression(archive.get(), entry, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                   0) == 0,
          "zip_set_file_compression", member);
    check(zip_file_set_mtime(archive.get(), entry, mtime, 0) == 0, "zip_file_set_mtime", member);
  }
  PTQAT_CHECK(zip_close(archive.get()) == 0, IoError, "{}: zip_close failed: {}", path,
              zip_strerror(archive.get()));
  static_cast<void>(archive.release());  // zip_close freed it
}

}  // namespace ptqat::datasets
