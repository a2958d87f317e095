#include "datasets/nuscenes/npz.h"

#include <zip.h>

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>

#include "core/error.h"
#include "core/zip_archive.h"
#include "datasets/nuscenes/binary_file.h"

namespace ptqat::datasets {

namespace {

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

std::map<std::string, NpyArray> read_npz(const std::string& path) {
  const core::ZipArchive archive = core::open_zip(path, ".npz", "a numpy .npz (zip archive)");
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
    const std::vector<uint8_t> image = core::read_zip_member(archive.get(), index, stat, label);
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
    PTQAT_ASSERT(tensor.defined() && npy_descr(tensor.scalar_type()) != nullptr,
                 "write_npz({}): array '{}': expected uint8, bool, int32, int64, float32 or "
                 "float64, got {}",
                 path, name, tensor.defined() ? c10::toString(tensor.scalar_type()) : "undefined");
  }
  create_parent_folders(path);

  int code = ZIP_ER_OK;
  core::ZipArchive archive(zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code));
  PTQAT_CHECK(archive != nullptr, IoError, "{}: cannot create .npz: {}", path,
              core::zip_error_text(code));
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
    images.push_back(npy_image(cpu));
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
