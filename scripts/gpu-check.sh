#!/usr/bin/env bash
# The GPU check (docs/cluster.md "The GPU check"): on a node with a GPU and an installed PyTorch,
# without network access, builds the CUDA variant against that PyTorch's LibTorch, runs the
# tests that need a GPU, then measures and prints one JSON object:
#   - fake_quant: ptqat's CUDA fake-quant forward+backward bandwidth (GB/s) against a
#     device-to-device copy of the same tensor (bench/quant_bench);
#   - training: the detection demo model with bf16 autocast in float, full QAT and PTQAT(0.5, the
#     paper's rule): training samples/s and peak GPU memory, each over one epoch of the demo
#     dataset (the stage's wall time, its calibration and its one evaluation included).
# About 5-8 minutes on a 16-core node.
#
#   scripts/gpu-check.sh [--python PYTHON] [--deps PREFIX] [--arch "9.0+PTX"]
#
# --deps: the other dependencies unpacked by scripts/bundle-deps.sh (HDF5, toml++, spdlog, CLI11,
# simdjson, libzip, OpenMPI, ...), for a node that has none of them; default PTQAT_DEPS_PREFIX,
# else the system's. Logs go to build-gpu/gpu-check/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=python3
deps=${PTQAT_DEPS_PREFIX:-}
arch="9.0+PTX"
while (($#)); do
  case "$1" in
    --python) python=$2; shift 2 ;;
    --deps) deps=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    *) echo "error: gpu-check.sh: unknown argument '$1' (see the usage at the top)" >&2; exit 2 ;;
  esac
done
build_dir=$root/build-gpu
work=$build_dir/gpu-check
mkdir -p "$work"
log() { echo "gpu-check: $*" >&2; }

build_options=(--python "$python" --arch "$arch" --build "$build_dir")
if [[ -n "$deps" ]]; then
  build_options+=(--deps "$deps")
  multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
  export LD_LIBRARY_PATH=$deps/usr/lib/$multiarch:$deps/usr/lib/$multiarch/openmpi/lib:${LD_LIBRARY_PATH:-}
  export PATH=$deps/usr/bin:$PATH
  export OPAL_PREFIX=$deps/usr  # the bundle's OpenMPI finds its own files, not /usr's
fi
log "building into $build_dir (log: $work/build.log)"
"$root/scripts/build-cuda.sh" "${build_options[@]}" >"$work/build.log" 2>&1 || {
  tail -20 "$work/build.log" >&2
  exit 1
}
ptqat=$build_dir/runner/ptqat
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "error: gpu-check.sh: no CUDA device visible")'

log "GPU tests (log: $work/tests.log)"
# The tests that skip without a GPU: CUDA fake-quant, device choice, the pinned batch copy, a bf16
# CUDA training and PTQAT run through the CLI, and the MPI suite with NCCL.
gpu_tests='Cuda|Device\.|Batch\.ToKeepsEveryTensor|distributed_mpi_tests'
(cd "$build_dir" && ctest --output-on-failure --timeout 300 -R "$gpu_tests") >"$work/tests.log" 2>&1 || {
  tail -40 "$work/tests.log" >&2
  exit 1
}

log "fake-quant and copy bandwidth"
"$build_dir/bench/quant_bench" --benchmark_filter='Cuda' --benchmark_min_time=0.5 \
  --benchmark_format=json >"$work/quant_bench.json" 2>"$work/quant_bench.log"

log "demo dataset and training stages (log: $work/train.log)"
data=$work/synth-demo
if [[ ! -f "$data/v1.0-synth/splits.json" ]]; then
  rm -rf "$data.partial"
  "$ptqat" data synth --out "$data.partial" --preset demo >>"$work/train.log"
  mv "$data.partial" "$data"
fi
rm -rf "$work/runs"
batch_size=8
config=(--config "$root/configs/detection/demo.toml" --set "data.dataroot=$data"
        --set "output.dir=$work/runs" --set runtime.device=cuda --set runtime.cudnn_benchmark=true
        --set "loader.batch_size=$batch_size" --set "loader.workers=$(( $(nproc) / 2 > 1 ? $(nproc) / 2 : 1 ))"
        --set train.epochs=1 --set train.mixed_precision=bf16
        --set finetune.epochs=1 --set finetune.mixed_precision=bf16)
"$ptqat" train "${config[@]}" >>"$work/train.log" 2>&1
"$ptqat" quantize --method qat "${config[@]}" >>"$work/train.log" 2>&1
"$ptqat" quantize --method ptqat --set quant.freeze_ratio=0.5 --set quant.rule=smallest \
  "${config[@]}" >>"$work/train.log" 2>&1
"$ptqat" results ls --json "$work/runs/results.h5" >"$work/records.jsonl"

"$python" - "$work" "$batch_size" <<'EOF'
import json, sys
work, batch_size = sys.argv[1], int(sys.argv[2])
# Names as Google Benchmark prints them: "BM_CopyCuda/real_time",
# "BM_FakeQuantCuda/per_channel_lsq/real_time".
bench = json.load(open(f"{work}/quant_bench.json"))["benchmarks"]
copy_gbs = next(b for b in bench if b["name"].startswith("BM_CopyCuda"))["bytes_per_second"] / 1e9
fake_quant = {b["name"].split("/")[1]: round(b["bytes_per_second"] / 1e9, 1)
              for b in bench if b["name"].startswith("BM_FakeQuantCuda/")}
records = [json.loads(line) for line in open(f"{work}/records.jsonl")]
training = {}
for record in records:
    if record["train_steps"] == 0:
        continue  # calibration
    training[record["method"]] = {
        "samples_per_s": round(record["train_steps"] * batch_size / record["wall_time_s"], 2),
        "peak_gpu_memory_mib": round(record["peak_device_memory_bytes"] / 2**20, 1),
        "trainable_parameters": record["trainable_parameters"],
        "wall_time_s": round(record["wall_time_s"], 1),
    }
result = {
    "fake_quant_fwd_bwd_gb_per_s": fake_quant,
    "d2d_copy_gb_per_s": round(copy_gbs, 1),
    "fake_quant_over_copy": {k: round(v / copy_gbs, 3) for k, v in fake_quant.items()},
    "training_bf16_detection_demo": training,
}
print(json.dumps(result, indent=1))
EOF
