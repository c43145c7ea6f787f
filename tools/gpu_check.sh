#!/usr/bin/env bash
# The GPU check (issue 42), one call on a CUDA box: install what the box lacks from carried
# cp312 wheels, run the tests marked gpu, then the throughput bench; the log goes to
# $OUT/gpu_check.log ($OUT where the device tool sets it, else docs/).
#
#   make gpu-check                         # or: bash tools/gpu_check.sh
#
# Wheels, fetched once on a machine with pip's index (the box has torch, numpy, opencv, pytest
# and tensorboard, but not these):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 -d .whl gymnasium==1.4.0 ale-py==0.12.1 \
#     tensorboardX==2.6.5 ptan==0.8.1 stable-baselines3==2.9.2 Farama-Notifications==0.0.6
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
out=${OUT:-docs}
log=$out/gpu_check.log
need="import gymnasium, ale_py, tensorboardX, ptan"
{
  echo "gpu check of ${GPU_CHECK_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '(no git)')}, $(date -u +%FT%TZ)"
  nvidia-smi -L 2>/dev/null || echo "nvidia-smi: none"
  if ! $PY -c "$need" 2>/dev/null; then
    ls .whl/*.whl >/dev/null 2>&1 || { echo "gpu check: the box lacks packages and there is no .whl/ to install"; exit 2; }
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 2
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    $PY -c "$need" || exit 2
  fi
  $PY -c "import torch, gymnasium, ale_py; print('torch', torch.__version__, '| gymnasium', gymnasium.__version__, '| ale-py', ale_py.__version__, '| cuda', torch.cuda.is_available())"
  start=$SECONDS
  $PY -m pytest -p no:cacheprovider -m gpu -v --durations=0 tests; tests=$?
  echo "gpu tests: exit $tests, $((SECONDS - start)) s"
  start=$SECONDS
  $PY tools/bench_throughput.py --cuda --frames 50000 --variants vector async bf16 compile; bench=$?
  echo "bench: exit $bench, $((SECONDS - start)) s"
  exit $((tests || bench))
} 2>&1 | tee "$log"
