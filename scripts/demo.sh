#!/usr/bin/env bash
# The README's main command: installs missing packages, builds in Release, then runs the demo.
# The demo generates the synthetic nuScenes-format demo dataset (once; reused when present),
# prints its statistics, inspects one file of each kind, measures the training loader, then runs
# the full QAT vs PTQAT sweep on 2 MPI ranks and prints the paper-style tables.
#
#   scripts/demo.sh           the demo (~15 minutes on 2 cores after the build)
#   scripts/demo.sh --smoke   the same commands on the tiny preset in a scratch folder (what CI
#                             runs; ~25 s after the build); the folder is removed after a pass
#                             and kept after a failure, for a look at its logs
# PTQAT_TORCH=pip runs it on the CUDA LibTorch 2.x build (scripts/variant.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/variant.sh"
smoke=false
case "${1:-}" in
  "") ;;
  --smoke) smoke=true ;;
  *) echo "error: demo.sh: unknown argument '$1' (expected nothing or --smoke)" >&2; exit 2 ;;
esac
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
ptqat="$build_dir/runner/ptqat"
step() { printf '\n== %s\n' "$*"; }

# Relative paths in the configs (data.dataroot, output.dir) resolve against the working folder:
# the checkout for the demo, a scratch folder for the smoke run.
if $smoke; then
  preset=tiny
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/ptqat-smoke.XXXXXX")
  sweep=configs/sweeps/smoke.toml
  float_config=configs/detection/tiny.toml
  output=runs/detection-smoke
  took=("5 s" "10 s")  # synth, sweep: as measured on 2 cores
else
  preset=demo
  workdir=$root
  sweep=configs/sweeps/demo.toml
  float_config=configs/detection/demo.toml
  output=runs/detection-demo
  took=("2 min" "13 min")
fi
cd "$workdir"
dataroot=data/synth-$preset

step "ptqat --version"
"$ptqat" --version
if [[ -f "$dataroot/v1.0-synth/splits.json" ]]; then
  step "reusing the $preset dataset in $dataroot"
else
  step "ptqat data synth --out $dataroot --preset $preset (about ${took[0]} on 2 cores)"
  rm -rf "$dataroot.partial"
  "$ptqat" data synth --out "$dataroot.partial" --preset "$preset"
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
loader=("$root/configs/demo.toml" --set "data.dataroot=$dataroot")
step "ptqat config show configs/demo.toml --set data.dataroot=$dataroot"
"$ptqat" config show "${loader[@]}"
step "ptqat bench loader configs/demo.toml --set data.dataroot=$dataroot --batches 20"
"$ptqat" bench loader "${loader[@]}" --batches 20

# The method as a sweep on 2 MPI ranks ($sweep): the float baseline trained data-parallel over
# both ranks, then W4A8 PTQ, full QAT and PTQAT at freeze ratios 0.25 / 0.5 / 0.75 with the
# paper's rule and its ablation, each stage recorded in $output/results.h5. A rerun skips what is
# recorded and resumes a stage that was cut off.
mpiexec=(mpiexec --bind-to none -np 2)
if [[ $(id -u) -eq 0 ]]; then mpiexec+=(--allow-run-as-root); fi
results=$output/results.h5
plots=$output/plots
step "mpiexec -np 2 ptqat sweep $sweep (about ${took[1]} on 2 cores)"
"${mpiexec[@]}" "$ptqat" sweep "$root/$sweep"
step "ptqat eval --config $float_config --set train.ranks=2 (the float model)"
"$ptqat" eval --config "$root/$float_config" --set train.ranks=2 --set "output.dir=$output" \
  --metrics-json "$output/float-metrics.json"
step "ptqat report $results --plots $plots"
"$ptqat" report "$results" --plots "$plots"
for plot in "$plots"/*.png; do
  [[ -s "$plot" ]] || { echo "error: demo.sh: the report wrote no plot in $plots" >&2; exit 1; }
done
step "done"
if $smoke; then
  cd "$root"
  rm -rf "$workdir"
  echo "smoke run passed (scratch folder $workdir removed)"
else
  echo "results: $root/$results"
  echo "plots:   $root/$plots"
fi
