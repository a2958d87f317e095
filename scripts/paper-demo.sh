#!/usr/bin/env bash
# The paper's sweeps at demo size on 2 MPI ranks (configs/paper/demo.toml: demo_w4a8, demo_w8a8
# and demo_ablation in one plan), then their report as docs/results-demo.md. It runs model by
# model (`ptqat sweep configs/paper/demo.toml --only <model>`), so that what a sitting finishes
# needs no checkpoint afterwards. The records are the study: they are mirrored into
# docs/results-demo/store/ (committed) after every model and restored from there into an empty
# runs/paper-demo, so a fresh clone re-renders the page and resumes the study where the last
# sitting stopped (about 8 hours of a 2-core machine in all, and 3 more for the float seeds).
# Each sitting of a model is logged with its revision and wall time in
# docs/results-demo/sittings.tsv, which the page lists.
#
#   scripts/paper-demo.sh                  every model
#   scripts/paper-demo.sh detection-cnn    only some (detection-cnn, detection-transformer,
#                                          segmentation-cnn, occupancy-cnn)
#   scripts/paper-demo.sh --report-only    render docs/results-demo.md from what is recorded
# PTQAT_TORCH=pip runs it on the CUDA LibTorch 2.x build (scripts/variant.sh);
# PTQAT_EXECUTABLE=/path/to/ptqat runs that executable instead of building one.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/variant.sh"
cd "$root"
run=true
models=()
for argument in "$@"; do
  case "$argument" in
    --report-only) run=false ;;
    detection-cnn | detection-transformer | segmentation-cnn | occupancy-cnn) models+=("$argument") ;;
    *)
      echo "error: paper-demo.sh: unknown argument '$argument' (expected detection-cnn," \
        "detection-transformer, segmentation-cnn, occupancy-cnn or --report-only)" >&2
      exit 2
      ;;
  esac
done
if [[ ${#models[@]} -eq 0 ]]; then
  models=(detection-cnn detection-transformer segmentation-cnn occupancy-cnn)
fi
ptqat=${PTQAT_EXECUTABLE:-$build_dir/runner/ptqat}
output=runs/paper-demo  # the sweeps' output.dir
study=docs/results-demo
sittings=$study/sittings.tsv

# The store (its records, their superseded versions and the results.h5 view of them): restored
# into an empty output folder, mirrored back after each model. A record is never rewritten in
# place (a new version first links the old one into superseded/), so the mirror loses nothing.
restore_store() {
  if [[ -d "$study/store" && ! -d "$output/records" ]]; then
    mkdir -p "$output"
    cp -a "$study/store/." "$output/"
  fi
}
save_store() {
  mkdir -p "$study/store"
  for entry in records superseded results.h5; do
    if [[ -e "$output/$entry" ]]; then cp -a "$output/$entry" "$study/store/"; fi
  done
}

if $run; then
  if [[ -z ${PTQAT_EXECUTABLE:-} ]]; then
    "$root/scripts/install_deps.sh"
    PTQAT_BUILD_TARGET=ptqat "$root/scripts/build.sh"
  fi
  dataroot=data/synth-demo
  if [[ ! -f "$dataroot/v1.0-synth/splits.json" ]]; then
    rm -rf "$dataroot.partial"
    "$ptqat" data synth --out "$dataroot.partial" --preset demo
    mv "$dataroot.partial" "$dataroot"
  fi
  mpiexec=(mpiexec --bind-to none -np 2)
  if [[ $(id -u) -eq 0 ]]; then mpiexec+=(--allow-run-as-root); fi
  restore_store
  for model in "${models[@]}"; do
    started=$(date -u +%FT%TZ)
    start=$SECONDS
    status=0
    "${mpiexec[@]}" "$ptqat" sweep configs/paper/demo.toml --only "$model" || status=$?
    save_store
    # The revision the executable was built from, as its records carry it.
    revision=$("$ptqat" --version | sed -n 's/.*(git \([^)]*\)).*/\1/p')
    printf '%s\t%s\t%s\t%d\t%d\n' "$started" "$revision" "$model" \
      $((SECONDS - start)) "$status" >>"$sittings"
    if [[ $status -ne 0 ]]; then exit "$status"; fi
  done
fi

# The page: how it was made, then the report of the committed store as ptqat renders it.
page=docs/results-demo.md
{
  echo "# PTQAT at demo size: the paper's tables on the synthetic nuScenes"
  echo
  echo "Rendered by \`scripts/paper-demo.sh\` from the records in \`$study/store/\`; do not edit"
  echo "by hand. The study is \`configs/paper/demo.toml\` (the grids of \`demo_w4a8\`, \`demo_w8a8\`"
  echo "and \`demo_ablation\`, and float seeds 1 and 2 with their PTQ for the float models' spread),"
  echo "run model by model as"
  echo "\`mpiexec -np 2 ptqat sweep configs/paper/demo.toml --only <model>\` (2 ranks, one core"
  echo "each, on a 2-core development machine that was also building and testing: the time and"
  echo "memory columns are noisy) on \`ptqat data synth --preset demo\`; \`ptqat report\`"
  echo "rendered the tables below from what is recorded. The sittings (a model"
  echo "resumes where the previous sitting stopped; wall seconds, exit status 0 when the model's"
  echo "stages were all recorded):"
  echo
  echo "| started (UTC) | ptqat revision | model | wall s | exit |"
  echo "|---|---|---|---:|---:|"
  if [[ -f "$sittings" ]]; then
    while IFS=$'\t' read -r started revision model seconds status; do
      echo "| $started | $revision | $model | $seconds | $status |"
    done <"$sittings"
  fi
  echo
  "$ptqat" report "$study/store/results.h5"
} >"$page.partial"
mv "$page.partial" "$page"
echo "wrote $page"
