#pragma once
// Export of a quantized model to HDF5 (integer weights, scales and zero points per layer), and
// the import that rebuilds the fake-quantized model from it. Schema: docs/quantization.md.

#include <string>
#include <vector>

#include "quant/layer_discovery.h"

namespace ptqat::quant {

/// Writes every layer's integer weight codes, weight and input scales and zero points, folded
/// float bias and specs to `path` (HDF5, written to a temporary file and renamed into place).
/// Layers must be calibrated; a keep-float layer is written as its float folded weight.
/// Throws IoError naming the path on failure.
void export_quantized(const std::vector<NamedLayer>& layers, const std::string& path);

/// Reads `path` and freezes each layer (by name) with the dequantized weight
/// (codes - zero_point) * scale, which equals the fake-quantized weight at export exactly, and
/// the exported bias and input quantizer. Throws DataError naming the file and layer when a
/// layer is missing or its shapes or kind differ.
void import_quantized(const std::vector<NamedLayer>& layers, const std::string& path);

}  // namespace ptqat::quant
