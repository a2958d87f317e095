#!/usr/bin/env bash
# The README's "Using ptqat" block, run top to bottom as a user would, in a scratch folder that
# holds the build's ptqat as build/runner/ptqat and the repository's configs/: every command
# must succeed and leave what the next one reads.
# Usage: readme_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/build/runner"
ln -s "$build/runner/ptqat" "$scratch/build/runner/ptqat"
ln -s "$source_dir/configs" "$scratch/configs"

# The first ```sh block after the "## Using ptqat" heading.
awk '/^## Using ptqat/ { section = 1 } section && /^```sh/ { inside = 1; next }
     inside && /^```/ { exit } inside' "$source_dir/README.md" >"$scratch/block.sh"
if [[ $(grep -c ptqat "$scratch/block.sh") -lt 10 ]]; then
  echo "FAIL: no \"Using ptqat\" block of commands in $source_dir/README.md" >&2
  exit 1
fi

# Tests may run as root, which mpirun refuses without this flag.
mpirun() { command mpirun --allow-run-as-root --bind-to none "$@"; }
export -f mpirun
cd "$scratch"
bash -euxo pipefail block.sh

# What the block promises to leave behind.
for file in gtdb_train.h5 m.json out.pth out.h5 runs.csv merged.h5 \
  plots/ablation_detection-cnn_w4a8.pdf plots/ablation_detection-cnn_w4a8.svg \
  plots/ablation_detection-cnn_w4a8.png; do
  if [[ ! -s $file ]]; then
    echo "FAIL: the README block left no $file" >&2
    exit 1
  fi
done
echo "README block ran top to bottom"
