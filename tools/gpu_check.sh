#!/usr/bin/env bash
# The GPU check (issue 42), one call on a CUDA box: install what the box lacks from carried
# cp312 wheels, run the tests marked gpu, then the throughput bench; the log goes to
# $OUT/gpu_check.log ($OUT where the device tool sets it, else docs/).
#
#   make gpu-check                         # or: bash tools/gpu_check.sh
#
# What the box lacks comes from cp312 wheels carried in .whl/ (tools/gpu_env.sh says how).
set -uo pipefail
cd "$(dirname "$0")/.."
. tools/gpu_env.sh
out=${OUT:-docs}
log=$out/gpu_check.log
{
  echo "gpu check of ${GPU_CHECK_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '(no git)')}, $(date -u +%FT%TZ)"
  nvidia-smi -L 2>/dev/null || echo "nvidia-smi: none"
  gpu_packages || exit 2
  $PY -c "import torch, gymnasium, ale_py; print('torch', torch.__version__, '| gymnasium', gymnasium.__version__, '| ale-py', ale_py.__version__, '| cuda', torch.cuda.is_available())"
  start=$SECONDS
  # Each test is a run of its own: four at once where the box has pytest-xdist, to keep the
  # check within the few minutes a lent device allows.
  par=$($PY -c "import xdist" 2>/dev/null && echo "-n 4 -p no:benchmark")
  $PY -m pytest -p no:cacheprovider -m gpu -v --durations=0 $par tests; tests=$?
  echo "gpu tests: exit $tests, $((SECONDS - start)) s"
  start=$SECONDS
  $PY tools/bench_throughput.py --cuda --frames 30000 --variants vector host-frames async torch1 env-spare1; bench=$?
  echo "bench: exit $bench, $((SECONDS - start)) s"
  exit $((tests || bench))
} 2>&1 | tee "$log"
