#include "core/zip_archive.h"

#include <fmt/format.h>

#include "core/error.h"

namespace ptqat::core {

namespace {

// zlib's deflate cannot expand data by more than about 1032:1; a member claiming more is corrupt.
constexpr uint64_t kMaxDeflateRatio = 1032;

/// Closes a member after a failed read; the error that got us here is the one reported.
struct ZipMemberClose {
  void operator()(zip_file_t* member) const { zip_fclose(member); }
};

}  // namespace

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

ZipArchive open_zip(const std::string& path, const std::string& what, const std::string& expected) {
  int code = ZIP_ER_OK;
  ZipArchive archive(zip_open(path.c_str(), ZIP_RDONLY, &code));
  if (archive == nullptr) {
    // A file that cannot be opened at all is an I/O problem; anything libzip finds inside it
    // (no end-of-central-directory record, inconsistent entries) means the content is wrong.
    const bool io = code == ZIP_ER_NOENT || code == ZIP_ER_OPEN || code == ZIP_ER_MEMORY;
    if (io) PTQAT_FAIL(IoError, "{}: cannot open {}: {}", path, what, zip_error_text(code));
    PTQAT_FAIL(DataError, "{}: expected {}, got {}", path, expected, zip_error_text(code));
  }
  return archive;
}

/// Reads one member completely, with libzip's CRC check, into memory.
std::vector<uint8_t> read_zip_member(zip_t* archive, zip_uint64_t index, const zip_stat_t& stat,
                                     const std::string& label) {
  PTQAT_CHECK(stat.comp_method == ZIP_CM_STORE || stat.comp_method == ZIP_CM_DEFLATE, DataError,
              "{}: expected a stored or deflated member, got zip compression method {}", label,
              stat.comp_method);
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

void check_zip_members(const std::string& path, const std::string& what,
                       const std::string& expected) {
  const ZipArchive archive = open_zip(path, what, expected);
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  std::vector<uint8_t> buffer(size_t{1} << 20);
  for (zip_int64_t index = 0; index < count; ++index) {
    const auto at = static_cast<zip_uint64_t>(index);
    const char* name = zip_get_name(archive.get(), at, 0);
    const std::string label = fmt::format("{}: member '{}'", path, name ? name : "?");
    std::unique_ptr<zip_file_t, ZipMemberClose> member(zip_fopen_index(archive.get(), at, 0));
    PTQAT_CHECK(member != nullptr, DataError, "{}: cannot open: {}", label,
                zip_strerror(archive.get()));
    zip_int64_t got = 0;
    while ((got = zip_fread(member.get(), buffer.data(), buffer.size())) > 0) {
    }
    // libzip checks the CRC when a read reaches the end of the member's data.
    PTQAT_CHECK(got == 0, DataError, "{} is corrupt: {}", label, zip_file_strerror(member.get()));
    const int closed = zip_fclose(member.release());
    PTQAT_CHECK(closed == 0, DataError, "{} is corrupt: {}", label, zip_error_text(closed));
  }
}

}  // namespace ptqat::core
