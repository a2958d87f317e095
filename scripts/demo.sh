#!/usr/bin/env bash
# The README's main command: installs missing packages, builds in Release, then runs the demo.
# Today the demo generates the synthetic nuScenes-format demo dataset (once; reused when
# present), prints its statistics, inspects one file of each kind, and measures the training
# loader on it. It grows into the full QAT vs PTQAT sweep as the pipeline lands.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
ptqat="${PTQAT_BUILD_DIR:-$root/build}/runner/ptqat"
cd "$root"

dataroot=data/synth-demo
step() { printf '\n== %s\n' "$*"; }

step "ptqat --version"
"$ptqat" --version
if [[ -f "$dataroot/v1.0-synth/splits.json" ]]; then
  step "reusing the demo dataset in $dataroot"
else
  step "ptqat data synth --out $dataroot --preset demo"
  rm -rf "$dataroot.partial"
  "$ptqat" data synth --out "$dataroot.partial" --preset demo
  mv "$dataroot.partial" "$dataroot"  # complete or absent: an interrupted run starts over
fi
step "ptqat data info --dataroot $dataroot --version v1.0-synth"
"$ptqat" data info --dataroot "$dataroot" --version v1.0-synth
# First file of each kind (globs, not `ls | head`, which dies of SIGPIPE under pipefail).
keyframes=("$dataroot"/samples/LIDAR_TOP/*.pcd.bin)
labels=("$dataroot"/lidarseg/v1.0-synth/*_lidarseg.bin)
occupancy=("$dataroot"/gts/*/*/labels.npz)
for file in "${keyframes[0]}" "${labels[0]}" "${occupancy[0]}"; do
  step "ptqat data inspect $file"
  "$ptqat" data inspect "$file"
done
step "ptqat config show configs/demo.toml"
"$ptqat" config show configs/demo.toml
step "ptqat bench loader configs/demo.toml --batches 20"
"$ptqat" bench loader configs/demo.toml --batches 20

# The method on the demo dataset: the float baseline (24 epochs, ~15-20 minutes on 2 cores; a
# rerun resumes or reuses it), then W4A8 PTQ, full QAT, PTQAT (freeze the 50% of layers with the
# largest discrepancy) and its ablation (freeze the smallest), each recorded in
# runs/detection-demo/results.h5; stages already recorded are reused.
detection=configs/detection/demo.toml
step "ptqat train --config $detection"
"$ptqat" train --config "$detection"
for method in "ptq" "qat" "ptqat --rule smallest" "ptqat --rule largest"; do
  step "ptqat quantize --config $detection --method $method"
  # shellcheck disable=SC2086  # the method carries its own options
  "$ptqat" quantize --config "$detection" --method $method
done
step "ptqat eval --config $detection (the float model, metrics table)"
"$ptqat" eval --config "$detection" --metrics-json runs/detection-demo/float-metrics.json
step "ptqat results ls runs/detection-demo/results.h5"
"$ptqat" results ls runs/detection-demo/results.h5
