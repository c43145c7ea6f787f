#!/usr/bin/env bash
# Issue 42's speed rows in one device call (item 2): training rows of ROW_S seconds each (their start
# included), on the GPU with all the box's cores, on its CPU alone, and on the GPU with the process
# held to 4 and to 8 cores (taskset, as a consumer box has), each group beside the vector env alone
# measured in the same call; the default (vector) in every group, seven rows in all, and first the
# bench's levers (--levers: the env alone by threads, one update profiled, CUDA graphs); about 9
# minutes with rows of a minute, within the 10 a device call allows. The log goes to
# $OUT/gpu_bench.log ($OUT where the device tool sets it, else docs/).
#
#   make gpu-bench                         # or: bash tools/gpu_bench.sh (carry .whl, as gpu_check.sh)
#
# ROW_S (default 60), CUDA (default --cuda; empty: every group on the CPU, as the tests run it here),
# HELD (default "4 8": the core counts of the taskset groups; one the box lacks is said and skipped)
# and BENCH_ARGS (more flags for every group, as --envs 2) may be set.
set -uo pipefail
cd "$(dirname "$0")/.."
. tools/gpu_env.sh
out=${OUT:-docs}
log=$out/gpu_bench.log
row_s=${ROW_S:-60}
cuda=${CUDA---cuda}
bench() {  # bench GROUP [taskset args...] -- bench flags
    local group=$1 pre=()
    shift
    while [ "$1" != -- ]; do pre+=("$1"); shift; done
    shift
    echo "== $group"
    local start=$SECONDS
    # shellcheck disable=SC2086
    "${pre[@]}" $PY tools/bench_throughput.py --seconds "$row_s" ${BENCH_ARGS:-} "$@"
    local code=$?
    echo "== $group: exit $code, $((SECONDS - start)) s"
    return $code
}
{
  echo "gpu bench of ${GPU_CHECK_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '(no git)')}, $(date -u +%FT%TZ), rows of $row_s s"
  nvidia-smi -L 2>/dev/null || echo "nvidia-smi: none"
  gpu_packages || exit 2
  failed=0
  bench "all cores, ${cuda:-cpu}" -- $cuda --levers --variants vector async || failed=1
  bench "all cores, the CPU alone" -- --rows-only --variants vector async bf16-async || failed=1
  cores=$($PY -c "import os; print(len(os.sched_getaffinity(0)))")
  for n in ${HELD-4 8}; do
    if [ "$n" -gt "$cores" ] || ! command -v taskset >/dev/null; then
      echo "== $n cores: skipped, this box has $cores$(command -v taskset >/dev/null || echo ' and no taskset')"
      continue
    fi
    bench "$n cores (taskset -c 0-$((n - 1))), ${cuda:-cpu}" taskset -c "0-$((n - 1))" -- \
      $cuda --rows-only --variants vector || failed=1
  done
  exit $failed
} 2>&1 | tee "$log"
