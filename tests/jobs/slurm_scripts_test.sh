#!/usr/bin/env bash
# slurm/*.sbatch outside Slurm (as a batch step would run them, launcher mpirun, 2 ranks): options after the job
# file reach `validate` and `run`, the run completes; and the #SBATCH header asks for no GPU (CPU-only nodes accept
# it; GPU nodes get --gpus-per-node on the sbatch command line) and appends to its log across requeues.
#   slurm_scripts_test.sh LOOM_MPI SOURCE_DIR WORK_DIR
set -euo pipefail
loom_mpi=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
for script in "$src"/slurm/*.sbatch; do
  name=$(basename "$script" .sbatch)
  if grep -q '^#SBATCH --gpus' "$script"; then echo "$name asks for GPUs in its header"; exit 1; fi
  grep -q '^#SBATCH --open-mode=append' "$script" || { echo "$name truncates its log on requeue"; exit 1; }
  grep -q '^#SBATCH --requeue' "$script" || { echo "$name is not requeueable"; exit 1; }
  SLURM_NTASKS=2 SLURM_NTASKS_PER_NODE=2 SLURM_CPUS_PER_TASK=1 LOOM_LAUNCHER=mpirun LOOM_REPO="$src" \
    LOOM_BIN="$loom_mpi" bash "$script" jobs/quickstart.yaml --limit 1 --set model.max_context=2048 \
    --set "output.path=$work/$name.h5" > "$work/$name.log" 2>&1 || { tail -30 "$work/$name.log"; exit 1; }
  grep -q "Failures: none" "$work/$name.log" || { tail -30 "$work/$name.log"; exit 1; }
  echo "$name: ok"
done
