#pragma once
// `ptqat data synth`: writes a synthetic dataset in exactly the nuScenes on-disk format
// (tables, LiDAR sweeps, lidarseg, Occ3D, map PNGs, splits.json), which the reader loads like
// real nuScenes. Deterministic: one seed gives byte-identical output.

#include <cstdint>
#include <string>

namespace ptqat::datasets {

struct SynthOptions {
  std::string preset = "tiny";     ///< tiny | demo | trainval
  int64_t scenes = -1;             ///< -1 = the preset's count
  int64_t samples_per_scene = -1;  ///< keyframes per scene (2 Hz); -1 = the preset's
  /// Scenes of synth_val (reported) and synth_select (held out for choosing checkpoints); the
  /// rest is synth_train. -1 = the preset's, or ~15 % and ~5 % of a --scenes count.
  int64_t val_scenes = -1, select_scenes = -1;
  uint64_t seed = 0;
  bool tables_only = false;  ///< skip sensor files (LiDAR, lidarseg, Occ3D)
  std::string version = "v1.0-synth";
};

/// What was written.
struct SynthSummary {
  int64_t scenes = 0, samples = 0, sample_data = 0, annotations = 0;
  double seconds = 0;
};

/// Resolves the preset: scene, split and sample counts, validated. ConfigError on an unknown
/// preset, scenes < 1, samples < 2, or splits that leave no training scene.
SynthOptions resolve_synth_options(SynthOptions options);

/// Writes the dataset under `out` (created; IoError when it cannot be written).
SynthSummary write_synth_dataset(const SynthOptions& options, const std::string& out);

}  // namespace ptqat::datasets
