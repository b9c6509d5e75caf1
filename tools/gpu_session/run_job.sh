#!/usr/bin/env bash
# On the GPU machine, from the repository root with .device/ carried (tools/gpu_session/build_here.sh): runs a job
# through the carried loom_mpi, over NP ranks (default 1) with the carried Open MPI.
#   tools/gpu_session/run_job.sh JOB.yaml [NP] [extra loom_mpi arguments]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
eval "$("$ROOT/tools/gpu_session/unpack.sh")"
JOB=$1
NP=${2:-1}
shift $(( $# > 1 ? 2 : 1 ))
if [ "$NP" = 1 ]; then
  exec "$D/loom_mpi" run "$JOB" "$@"
fi
exec "$MPI/bin/mpiexec" --allow-run-as-root --oversubscribe -n "$NP" -x LD_LIBRARY_PATH -x OPAL_PREFIX \
  "$D/loom_mpi" run "$JOB" "$@"
