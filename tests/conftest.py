"""Shared helpers: the script is imported as a module, the tests folder holds the catch task."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "train_a2c_pong.py"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

# tools/scalars.py has the one reader of event files in the project.
from scalars import event_reader as scalars  # noqa: E402, F401

import train_a2c_pong as t  # noqa: E402

# The scalars of the notebook's TBMeanTracker, in the order of its tb_tracker.track calls.
NOTEBOOK_METRICS = ("advantage", "values", "batch_rewards", "loss_entropy", "loss_policy", "loss_value",
                    "loss_total", "grad_l2", "grad_max", "grad_var")
GRAD_STATS = NOTEBOOK_METRICS[7:]

# cuBLAS reads this when it starts: deterministic matrix products on a GPU (the `deterministic` fixture).
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

# Lines arrive as they are printed; and the script runs as from a shell, not from make (whose
# MAKELEVEL, set by make test, would make it print `make train ARGS=...` resume lines).
MAKE_VARS = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
ENV = {**{k: v for k, v in os.environ.items() if k not in MAKE_VARS}, "PYTHONUNBUFFERED": "1"}


def run_script(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """The script as a user runs it, in a subprocess, with its output captured."""
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env=kwargs.pop("env", ENV), cwd=kwargs.pop("cwd", ROOT), **kwargs)


def limit_file_size(nbytes: int) -> int:
    """The kernel refuses writes past nbytes (EFBIG; Python ignores SIGXFSZ), as a full disk refuses;
    the limit before. A run_script's preexec_fn, or in this process for a while (file_size_limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    return soft


def start_script(*args: str) -> subprocess.Popen:
    """The script started in the background, for tests that signal it while it runs."""
    return subprocess.Popen([sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)


@pytest.fixture(autouse=True)
def not_under_make(monkeypatch):
    """In-process runs too see the environment of a shell (ENV), whether or not make ran pytest."""
    for name in MAKE_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def torch_threads():
    """main() sets torch's thread count for --play (and --torch-threads for training): a test that
    calls it in-process must not leave its count to the tests after it."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def deterministic():
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(False)


def points(run_dir: Path, keep=lambda step: True) -> dict[str, list[tuple[int, float]]]:
    """A run's scalars but fps (wall time), at the steps kept."""
    acc = scalars(run_dir)
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag) if keep(e.step)]
            for tag in sorted(acc.Tags()["scalars"]) if tag != "fps"}


def model_data(cfg: t.Config | None = None, weights: dict | None = None, frame: int = 0) -> dict:
    """A model file's contents as a run of `cfg` writes them (fresh weights unless given)."""
    cfg = cfg or t.Config()
    weights = weights if weights is not None else t.AtariA2C((4, 84, 84), 6).state_dict()
    return t.model_file(weights, frame, t.pipeline(cfg.backend, cfg.sticky), t.saved_config(cfg))


@pytest.fixture(scope="session")
def pong_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """One short real training run on the Pong ROM (CPU), shared by the tests that inspect it."""
    runs = tmp_path_factory.mktemp("runs")
    proc = run_script("--envs", "2", "--max-frames", "3000", "--runs-dir", str(runs), "--name", "smoke")
    dirs = sorted(runs.iterdir())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(dirs) == 1, dirs
    return proc, dirs[0]


@pytest.fixture(scope="session")
def compiles() -> None:
    """Skips a test that compiles where the script refuses --compile (its own check, compile_net, on
    play's one frame): on the CPU torch.compile builds C++, which needs a compiler and Python's
    headers, both missing from a slim container; the skip says the script's line."""
    net = t.AtariA2C((4, 84, 84), 6)
    try:
        t.compile_net(net, net, torch.device("cpu"), envs=1)
    except t.UsageError as e:
        pytest.skip(str(e))
