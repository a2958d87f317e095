#!/usr/bin/env bash
# The out-of-tree example against an installed ptqat: install this build into a temporary
# prefix, configure and build examples/custom_model with find_package(ptqat), then run its
# library-only program and its runner (train, PTQ, PTQAT, report) on the tiny synthetic dataset.
#   custom_model_test.sh <build dir> <source dir>
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > /dev/null
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$source/examples/custom_model" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  "${launcher[@]}" > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j 2 > "$work/build.log" || { tail -50 "$work/build.log"; exit 1; }

# The quantization core alone: PTQAT must beat PTQ, and the export must be an HDF5 file.
"$work/build/quantize_mlp" "$work/mlp.h5" | tee "$work/mlp.txt"
grep -q "frozen" "$work/mlp.txt"
grep -q "trained" "$work/mlp.txt"
head -c 8 "$work/mlp.h5" | od -c | grep -q "H   D   F"

# The runner with the registered task, on data the installed ptqat generates.
"$work/prefix/bin/ptqat" data synth --preset tiny --out "$work/synth-tiny" > /dev/null
run=("$work/build/custom_ptqat")
config="$source/examples/custom_model/presence_tiny.toml"
common=(--set "data.dataroot=$work/synth-tiny" --set "output.dir=$work/run" --set runtime.threads=2)
"${run[@]}" train --config "$config" "${common[@]}"
"${run[@]}" quantize --config "$config" "${common[@]}" --method qat
"${run[@]}" quantize --config "$config" "${common[@]}" --method ptqat
"${run[@]}" report "$work/run/results.h5" | tee "$work/report.md"
grep -q "presence-cnn: float model" "$work/report.md"
grep -q "Δ mBA vs QAT" "$work/report.md"
grep -q "| PTQAT | W4A8 | 0.5 | smallest |" "$work/report.md"
# The stock ptqat does not know the task, and says so in one line.
if "$work/prefix/bin/ptqat" train --config "$config" "${common[@]}" 2> "$work/err.txt"; then
  echo "stock ptqat accepted task = \"presence\"" >&2
  exit 1
fi
grep -q "unknown key 'presence'" "$work/err.txt" \
  || { cat "$work/err.txt"; exit 1; }
echo "custom model example: ok"
