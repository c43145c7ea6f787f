# make setup: .venv with what the program needs to run (requirements.txt, ptan).
# make train: set up .venv once, then train (on the GPU when torch sees one, with --async-envs
#             there, or --bf16 on a CPU with native bfloat16, where docs/seeds.csv proves it:
#             tools/train_flags.py).
# make test:  set up .venv once, add the test tools (requirements-dev.txt), run the whole suite
#             (the command CI runs) but the long learning proofs (make test-long);
#             make check: the fast part only (pytest -m "not slow and not docs").
# make gpu-check: on a CUDA box, the tests marked gpu and the GPU bench (tools/gpu_check.sh);
#             make gpu-bench: issue 42's rows of a minute, GPU, CPU alone, 4 and 8 cores (tools/gpu_bench.sh).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  := torch>=2.8
GPU    := $(shell nvidia-smi -L >/dev/null 2>&1 && echo yes)
ARGS   ?=

.PHONY: setup dev train play tensorboard test test-long check lint bench gpu-check gpu-bench clean-venv

setup: $(VENV)/.installed

# --system-site-packages: a box that already has torch >= 2.8 (a CUDA build, say) keeps it.
# Where no torch is importable, or only an older one (which pip would otherwise replace with
# whatever build PyPI serves, unannounced), one goes into .venv: PyPI's CUDA build on a GPU box;
# on a CPU box a local wheel if pip's configuration offers one, else PyTorch's CPU index, else PyPI.
# ptan goes in with --no-deps: its metadata pins torch==2.5.0 and numpy<2.
# constraints.txt: the versions the seed runs used, followed but for a torch (and numpy) kept.
$(VENV)/.installed: requirements.txt constraints.txt
	@v=$$($(PYTHON) -c "import sys; print('%d.%d' % sys.version_info[:2])" 2>/dev/null); \
	$(PYTHON) -c "import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 14))" 2>/dev/null || { \
	  echo "make setup: needs Python 3.11 to 3.14 (the newest with wheels of constraints.txt's torch and" \
	       "ale-py), and '$(PYTHON)' is $${v:-not found}; name another one: make setup PYTHON=python3.12"; exit 1; }
	$(PYTHON) -m venv --system-site-packages $(VENV)
	@have=$$($(PY) -c "import torch; print(torch.__version__.split('+')[0])" 2>/dev/null); \
	if [ -n "$$have" ] && $(PY) -c "import sys; v = tuple(int(x) for x in '$$have'.split('.')[:2]); sys.exit(v < (2, 8))"; then \
	  echo "setup: keeping the torch $$have this Python already has (and its numpy)"; \
	  grep -v -E '^(torch|numpy)==' constraints.txt > $(VENV)/constraints.txt; \
	else \
	  cp constraints.txt $(VENV)/constraints.txt; \
	  if [ -n "$$have" ]; then echo "setup: this Python's torch $$have is older than 2.8; installing a newer one into $(VENV) (the system's stays)"; \
	  else echo "setup: no torch found; installing one into $(VENV)"; fi; \
	  if [ "$(GPU)" = yes ]; then $(PIP) install "$(TORCH)" -c constraints.txt; \
	  else $(PIP) install --no-index --no-deps "$(TORCH)" -c constraints.txt \
	    || $(PIP) install --index-url https://download.pytorch.org/whl/cpu "$(TORCH)" -c constraints.txt \
	    || $(PIP) install "$(TORCH)" -c constraints.txt; fi; fi
	$(PIP) install -r requirements.txt -c $(VENV)/constraints.txt
	$(PIP) install --no-deps ptan==0.8.1
	$(PY) -c "import torch, ptan, ale_py, tensorboardX; print('setup ok: torch', torch.__version__)"
	touch $@

# --cuda where the installed torch can use a GPU (nvidia-smi alone does not make a CUDA build).
CUDA_FLAG = $$($(PY) -c "import torch; print('--cuda' if torch.cuda.is_available() else '')")

dev: $(VENV)/.dev

$(VENV)/.dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -r requirements-dev.txt
	touch $@

# Puts before ARGS the fastest settings proven on Pong on this machine (--cuda, and --async-envs
# on a GPU; --bf16 on a CPU with native bfloat16; each where the seed table proves it):
# tools/train_flags.py says which and why, then make says the command it runs and runs it.
train: setup
	@flags=$$($(PY) tools/train_flags.py -- $(ARGS)) || exit 1; \
	echo "$(PY) train_a2c_pong.py $${flags:+$$flags }$(ARGS)"; \
	$(PY) train_a2c_pong.py $$flags $(ARGS)

# Watch an agent, or the runs, from any shell (the Python of .venv): make play MODEL=runs/<run>/model_best.pt
# ARGS="--episodes 20"; make tensorboard (then http://localhost:6006).
MODEL ?= docs/pong_a2c_sticky.pt
play: setup
	$(PY) train_a2c_pong.py --play $(MODEL) $(ARGS)

tensorboard: setup
	$(VENV)/bin/tensorboard --logdir runs

test: dev
	$(PY) -m pytest -q --durations=10 -m "not long" tests

# The learning proofs of the faster numeric paths (minutes each), which CI's time has no room for.
test-long: dev
	$(PY) -m pytest -q --durations=10 -m long tests

check: dev
	$(PY) -m pytest -q -m "not slow and not docs" tests

lint: dev
	$(PY) -m ruff check .

bench: setup
	$(PY) tools/bench_throughput.py $(CUDA_FLAG) $(ARGS)

# On a CUDA box (tools/gpu_check.sh): the tests marked gpu and the GPU bench, with the box's own
# python3 and wheels carried in .whl/ for what it lacks; the log in $$OUT or docs/gpu_check.log.
gpu-check:
	PYTHON=$(PYTHON) bash tools/gpu_check.sh

# On a CUDA box, one call (tools/gpu_bench.sh): the levers (bench_throughput.py --levers), then training
# rows of a minute on the GPU, the CPU alone and the GPU held to 4 and 8 cores, each beside the env
# alone; the log in $$OUT or docs/gpu_bench.log.
gpu-bench:
	PYTHON=$(PYTHON) bash tools/gpu_bench.sh

clean-venv:
	rm -rf $(VENV)
