#!/usr/bin/env bash
# Runs the test suite once per OpenBLAS kernel family, so a numeric threshold tuned to
# one CPU fails here rather than in CI on another CPU.
#
# NumPy's OpenBLAS (DYNAMIC_ARCH) picks its kernels by CPU, so float32 round-off, and
# with it long float32 trajectories, differ in the last bits between machines.
# OPENBLAS_CORETYPE forces one kernel family; SkylakeX runs only where the CPU has
# AVX-512 (it is skipped, and said so, elsewhere).
#
# Usage: bash tests/blas_kernels.sh [PYTEST ARGS...]    (default: the whole suite)
#   e.g. bash tests/blas_kernels.sh tests/core -x
# Prints one line per kernel and a summary table; exits 1 if any kernel failed.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
[[ -x $py ]] || { echo "run 'bash .ci/setup' first" >&2; exit 2; }
args=("$@")
((${#args[@]})) || args=(tests)

kernels=(Haswell Zen Sandybridge Prescott)
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  kernels+=(SkylakeX)
else
  echo "SkylakeX: skipped (this CPU has no AVX-512)"
fi

status=0
summary=()
for k in "${kernels[@]}"; do
  log=$(mktemp)
  # The kernel actually in use, as OpenBLAS reports it (a typo would silently fall back).
  used=$(OPENBLAS_CORETYPE=$k $py -c \
    'import numpy, threadpoolctl; print(threadpoolctl.threadpool_info()[0].get("architecture"))' 2>/dev/null)
  OPENBLAS_CORETYPE=$k $py -m pytest -q -p no:cacheprovider "${args[@]}" >"$log" 2>&1
  rc=$?
  line=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|no tests ran' "$log" | tail -1 | sed 's/=//g')
  echo "$k (OpenBLAS reports $used): exit $rc, $line"
  if ((rc != 0)); then
    status=1
    grep -E '^(FAILED|ERROR)' "$log" | sed 's/^/    /'
  fi
  summary+=("| $k | $used | $line |")
  rm -f "$log"
done
echo
echo "| OPENBLAS_CORETYPE | kernel in use | result |"
echo "|---|---|---|"
printf '%s\n' "${summary[@]}"
exit $status
