#!/usr/bin/env bash
# expect_refused.sh LOOM_MPI JOB [REGEX [VALIDATE_ARGS...]]: `loom_mpi validate JOB` must exit 2 and print a line
# matching REGEX (grep -E); without REGEX, the job file's "# expect: REGEX" line gives it.
set -uo pipefail
loom_mpi=$1 job=$2
shift 2
expect=${1:-$(sed -n 's/^# expect: //p' "$job")}
[ $# -gt 0 ] && shift
[ -n "$expect" ] || { echo "no expected message for $job"; exit 1; }
output=$("$loom_mpi" validate "$job" "$@" 2>&1)
status=$?
echo "$output" | tail -5
[ "$status" -eq 2 ] || { echo "exit status $status, expected 2"; exit 1; }
echo "$output" | grep -Eq -- "$expect" || { echo "no line matches: $expect"; exit 1; }
echo "$output" | grep -q "terminate called\|bad conversion\|yaml-cpp" && { echo "raw library text"; exit 1; }
echo "refused as expected"
