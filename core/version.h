#pragma once

namespace ptqat {
/// The release version, e.g. "0.1.0".
const char* version();
/// `git describe --always --dirty` of the source tree at build time, or "unknown".
const char* git_revision();
}  // namespace ptqat
