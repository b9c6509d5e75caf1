#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu checkout to a score table: install the packages, build loom_mpi
# (Release, Ninja) and run jobs/quickstart.yaml on one process. Set LOOM_SKIP_DEPS=1 to skip the apt-get step,
# LOOM_NP=4 to run it over 4 MPI ranks.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ "${LOOM_SKIP_DEPS:-0}" != "1" ]; then "$repo/tools/install-deps.sh"; fi
cmake -S "$repo" -B "$repo/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$repo/build" --target loom_mpi -j"$(nproc)"
cd "$repo"
if [ "${LOOM_NP:-1}" = "1" ]; then
  ./build/loom_mpi jobs/quickstart.yaml
else
  mpirun -np "$LOOM_NP" --oversubscribe ./build/loom_mpi jobs/quickstart.yaml
fi
