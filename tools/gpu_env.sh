# Sourced by tools/gpu_check.sh and tools/gpu_train.sh on a CUDA box (issue 42): PY, the box's own
# Python (it has torch, numpy, opencv and tensorboard), and gpu_packages, which installs what the
# box lacks from the cp312 wheels carried in .whl/.
#
# The wheels, fetched once on a machine with pip's index:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 -d .whl gymnasium==1.4.0 ale-py==0.12.1 \
#     tensorboardX==2.6.5 ptan==0.8.1 stable-baselines3==2.9.2 Farama-Notifications==0.0.6
PY=${PYTHON:-python3}

gpu_packages() {
  local need="import gymnasium, ale_py, tensorboardX, ptan"
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}  # where they go, and stay on a warm box
  $PY -c "$need" 2>/dev/null && return 0
  ls .whl/*.whl >/dev/null 2>&1 || { echo "the box lacks packages and there is no .whl/ to install"; return 2; }
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || return 2
  $PY -c "$need" || return 2
}
