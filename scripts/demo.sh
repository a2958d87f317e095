#!/usr/bin/env bash
# The README's main command: installs missing packages, builds in Release, then runs the demo.
# Today the demo shows the data path on the nuScenes-format fixture in tests/data: the resolved
# run config, the dataset index with its statistics, one file of each kind, and the training
# loader's throughput. It grows into the full QAT vs PTQAT sweep as the pipeline lands.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
ptqat="${PTQAT_BUILD_DIR:-$root/build}/runner/ptqat"
cd "$root"

dataroot=tests/data/devkit-golden
step() { printf '\n== %s\n' "$*"; }

step "ptqat --version"
"$ptqat" --version
step "ptqat config show configs/demo.toml --set data.nsweeps=10"
"$ptqat" config show configs/demo.toml --set data.nsweeps=10
step "ptqat data info --dataroot $dataroot --version v1.0-mini"
"$ptqat" data info --dataroot "$dataroot" --version v1.0-mini
keyframe=$(ls "$dataroot"/samples/LIDAR_TOP/*.pcd.bin | head -n 1)
labels=$(ls "$dataroot"/lidarseg/v1.0-mini/*_lidarseg.bin | head -n 1)
panoptic=$(ls "$dataroot"/panoptic/v1.0-mini/*.npz | head -n 1)
for file in "$keyframe" "$labels" "$panoptic"; do
  step "ptqat data inspect $file"
  "$ptqat" data inspect "$file"
done
step "ptqat bench loader configs/demo.toml --set data.nsweeps=10 (2 epochs)"
"$ptqat" bench loader configs/demo.toml --set data.nsweeps=10 --batches 12
