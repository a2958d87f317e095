#pragma once
// Crash-safe file replacement: write to a temporary sibling, then publish it with fsync and
// rename, so that a reader (or a crash at any moment) sees either the old file or the new one,
// never a torn one. HDF5 1.10 has no journal; this is how every HDF5 file of ptqat is written.

#include <string>
#include <string_view>

namespace ptqat::core {

/// The temporary sibling `path` is written to before publish_file(): same folder (rename is
/// atomic only within one file system), name unique to this process.
std::string temporary_path_for(const std::string& path);

/// fsyncs `temporary`, renames it onto `path` and fsyncs the folder. Throws IoError naming the
/// paths and the failed call; on failure `path` is untouched and `temporary` removed.
void publish_file(const std::string& temporary, const std::string& path);

/// As publish_file(), but never replaces: links `temporary` to `path` (link(2) fails when `path`
/// exists, atomically, so that of two concurrent publishers one wins and the other learns it).
/// Returns false, `path` untouched and `temporary` removed, when `path` exists.
bool publish_file_if_absent(const std::string& temporary, const std::string& path);

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR. Returns 0, or the errno of
/// the write that failed (ENOSPC, EFBIG, EIO, ...).
int write_all(int fd, std::string_view bytes);

/// Creates (or truncates) `path` and writes `bytes` to it through a descriptor ptqat owns, so
/// that every failure is an errno it sees. IoError naming `label` (the file the user knows: the
/// final path when `path` is its temporary) and the reason; the partial file is removed then.
void write_new_file(const std::string& path, std::string_view bytes, const std::string& label);

/// Writes `bytes` to `path` whole or not at all: a temporary sibling, then publish_file().
/// Throws IoError naming the file when it cannot be written.
void write_file_durably(const std::string& path, std::string_view bytes);

}  // namespace ptqat::core
