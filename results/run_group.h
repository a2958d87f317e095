#pragma once
// The HDF5 layout of one run (docs/results.md): the group /runs/<key> that a record file holds
// one of and a results file holds many of. Used by the store, consolidation and merge.

#include <string>

#include "core/hdf5.h"
#include "results/results_store.h"

namespace ptqat::results {

/// Whether `key` can name a record: 1-200 letters, digits, '_' or '-'.
bool is_valid_key(const std::string& key);
/// ConfigError naming `key` when it cannot name a record.
void check_key(const std::string& key);
bool ends_with(const std::string& text, const std::string& suffix);

/// InternalError for a malformed record (bad key or names, columns of unequal length).
void check_record(const RunRecord& record);

/// Writes `record` into the (new, empty) group `run`.
void write_run(const core::h5::Group& run, const RunRecord& record);

/// Reads /runs/<key> of `file` (at `path`), every error naming the file and the run in one line.
RunRecord read_run(const core::h5::File& file, const std::string& path, const std::string& key);

/// Reads /superseded/<name> of `file` (at `path`), a version "<key>.<n>" of run <key>.
RunRecord read_superseded(const core::h5::File& file, const std::string& path,
                          const std::string& name);

}  // namespace ptqat::results
