# Sourced by build.sh, test.sh and demo.sh: which LibTorch they build against, and where.
#   PTQAT_TORCH unset or "debian": Debian's libtorch-dev 1.13 (CPU) into build/
#   PTQAT_TORCH=pip:              the CUDA LibTorch 2.x inside the pinned PyTorch wheel
#                                 (scripts/torch_venv.sh) into build-torch2/, CUDA required
# PTQAT_BUILD_DIR overrides the folder.
case "${PTQAT_TORCH:-debian}" in
  debian) build_dir=${PTQAT_BUILD_DIR:-$root/build} ;;
  pip) build_dir=${PTQAT_BUILD_DIR:-$root/build-torch2} ;;
  *) echo "error: PTQAT_TORCH=$PTQAT_TORCH: expected 'pip' or 'debian' (the default)" >&2; exit 2 ;;
esac
