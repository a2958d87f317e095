#!/usr/bin/env bash
# The README's main command: installs missing packages, builds in Release, then runs the demo.
# The demo generates the synthetic nuScenes-format demo dataset (once; reused when present),
# prints its statistics, inspects one file of each kind, measures the training loader, then runs
# the full QAT vs PTQAT sweep on 2 MPI ranks and prints the paper-style tables.
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

# The method on the demo dataset, as a sweep on 2 MPI ranks (configs/sweeps/demo.toml): the
# float baseline (24 epochs, data-parallel over both ranks, ~14 minutes on 2 cores), then W4A8
# PTQ, full QAT and PTQAT at freeze ratios 0.25 / 0.5 / 0.75 with the paper's rule and its
# ablation, each stage recorded in runs/detection-demo/results.h5. A rerun skips what is
# recorded and resumes a stage that was cut off.
mpiexec=(mpiexec --bind-to none -np 2)
if [[ $(id -u) -eq 0 ]]; then mpiexec+=(--allow-run-as-root); fi
results=runs/detection-demo/results.h5
plots=runs/detection-demo/plots
step "mpiexec -np 2 ptqat sweep configs/sweeps/demo.toml"
"${mpiexec[@]}" "$ptqat" sweep configs/sweeps/demo.toml
step "ptqat eval --config configs/detection/demo.toml --set train.ranks=2 (the float model)"
"$ptqat" eval --config configs/detection/demo.toml --set train.ranks=2 \
  --metrics-json runs/detection-demo/float-metrics.json
step "ptqat report $results --plots $plots"
"$ptqat" report "$results" --plots "$plots"
step "done"
echo "results: $root/$results"
echo "plots:   $root/$plots"
