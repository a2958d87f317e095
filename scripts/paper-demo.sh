#!/usr/bin/env bash
# The paper's sweeps at demo size (configs/paper/demo_*.toml) on 2 MPI ranks, then their report
# as docs/results-demo.md. Resumable: every recorded stage is skipped and a stage that was cut off
# resumes from its checkpoint, so the study can span several sittings (about 8 hours of a
# 2-core machine in all). Each sitting is logged with its revision and wall time in
# runs/paper-demo/sittings.tsv, which the rendered page lists.
#
#   scripts/paper-demo.sh                  all three sweeps: w4a8, w8a8, ablation
#   scripts/paper-demo.sh w4a8             only some of them
#   scripts/paper-demo.sh --report-only    render docs/results-demo.md from what is recorded
# PTQAT_TORCH=pip runs it on the CUDA LibTorch 2.x build (scripts/variant.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/variant.sh"
cd "$root"
run=true
sweeps=()
for argument in "$@"; do
  case "$argument" in
    --report-only) run=false ;;
    w4a8 | w8a8 | ablation) sweeps+=("$argument") ;;
    *)
      echo "error: paper-demo.sh: unknown argument '$argument' (expected w4a8, w8a8, ablation" \
        "or --report-only)" >&2
      exit 2
      ;;
  esac
done
if [[ ${#sweeps[@]} -eq 0 ]]; then sweeps=(w4a8 w8a8 ablation); fi
ptqat="$build_dir/runner/ptqat"
output=runs/paper-demo
sittings=$output/sittings.tsv

if $run; then
  "$root/scripts/install_deps.sh"
  "$root/scripts/build.sh"
  dataroot=data/synth-demo
  if [[ ! -f "$dataroot/v1.0-synth/splits.json" ]]; then
    rm -rf "$dataroot.partial"
    "$ptqat" data synth --out "$dataroot.partial" --preset demo
    mv "$dataroot.partial" "$dataroot"
  fi
  mpiexec=(mpiexec --bind-to none -np 2)
  if [[ $(id -u) -eq 0 ]]; then mpiexec+=(--allow-run-as-root); fi
  mkdir -p "$output"
  for sweep in "${sweeps[@]}"; do
    started=$(date -u +%FT%TZ)
    start=$SECONDS
    status=0
    "${mpiexec[@]}" "$ptqat" sweep "configs/paper/demo_$sweep.toml" || status=$?
    printf '%s\t%s\t%s\t%d\t%d\n' "$started" "$(git rev-parse --short HEAD)" "demo_$sweep" \
      $((SECONDS - start)) "$status" >>"$sittings"
    if [[ $status -ne 0 ]]; then exit "$status"; fi
  done
fi

# The page: how it was made, then the report as ptqat renders it.
page=docs/results-demo.md
{
  echo "# PTQAT at demo size: the paper's tables on the synthetic nuScenes"
  echo
  echo "Rendered by \`scripts/paper-demo.sh\` from \`$output/results.h5\`; do not edit by hand."
  echo "Each sweep ran as \`mpiexec -np 2 ptqat sweep configs/paper/demo_<sweep>.toml\` (2 ranks, one"
  echo "core each, on the 2-core development machine) on \`ptqat data synth --preset demo\`, and"
  echo "\`ptqat report $output/results.h5\` rendered the tables below. The sittings (a sweep resumes"
  echo "where the previous one stopped; wall seconds of each sitting, exit status 0 when the sweep"
  echo "finished):"
  echo
  echo "| started (UTC) | ptqat revision | sweep | wall s | exit |"
  echo "|---|---|---|---:|---:|"
  if [[ -f "$sittings" ]]; then
    while IFS=$'\t' read -r started revision sweep seconds status; do
      echo "| $started | $revision | $sweep | $seconds | $status |"
    done <"$sittings"
  fi
  echo
  "$ptqat" report "$output/results.h5"
} >"$page.partial"
mv "$page.partial" "$page"
echo "wrote $page"
