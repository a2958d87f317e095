#pragma once
// Stage keys (docs/architecture.md "Stage keys"): a stage is named by a hash of the canonical form
// of exactly the config fields that change its result, plus its parent stage's key. Same meaning,
// same key, on every machine: values are resolved (defaults filled in), lines are sorted, floats
// are written in their shortest round-trip form (std::to_chars, -0 written as 0).

#include <string>

#include "core/config.h"

namespace ptqat::core {

/// The canonical text of the fields declared for `stage`: sorted "key=value" lines.
std::string canonical_form(const ConfigFields& fields, Stage stage);

/// 32 hex digits: XXH3-128 of the stage name, the parent key and the canonical form.
/// `parent_key` is empty for a stage without parent (float training).
std::string stage_key(const ConfigFields& fields, Stage stage, const std::string& parent_key);

/// 32 hex digits: XXH3-128 of the bytes of the file at `path` (a checkpoint's content identity).
/// IoError naming the file when it cannot be read.
std::string file_content_hash(const std::string& path);

}  // namespace ptqat::core
