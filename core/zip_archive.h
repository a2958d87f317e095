#pragma once
// Reading zip archives with libzip: numpy's .npz (datasets/nuscenes/npz.h) and PyTorch's checkpoint
// files (core/torch_pickle.h) are both zip archives.

#include <zip.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ptqat::core {

/// Closes an archive without writing anything: for reading, and for giving up on a write (libzip
/// writes to a temporary file, so the target is left untouched).
struct ZipDiscard {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipDiscard>;

/// libzip's text for an error code.
std::string zip_error_text(int code);

/// Opens `path` for reading. IoError "cannot open <what>" when the file cannot be opened,
/// DataError "expected <expected>" when it is no zip archive.
ZipArchive open_zip(const std::string& path, const std::string& what, const std::string& expected);

/// Reads one stored or deflated member completely, with libzip's CRC check, into memory.
/// DataError naming `label` for a corrupt member or an implausible claimed size.
std::vector<uint8_t> read_zip_member(zip_t* archive, zip_uint64_t index, const zip_stat_t& stat,
                                     const std::string& label);

/// Reads every member of the archive at `path` to its end, so that libzip checks each one's
/// CRC, without holding more than a buffer in memory. open_zip()'s errors for the archive;
/// DataError naming `path` and the member when one is corrupt (a flipped byte, a torn write).
void check_zip_members(const std::string& path, const std::string& what,
                       const std::string& expected);

}  // namespace ptqat::core
