"""Shared helpers: the script is imported as a module, the tests folder holds the catch task."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "train_a2c_pong.py"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def run_script(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """The script as a user runs it, in a subprocess, with its output captured."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=kwargs.pop("cwd", ROOT), **kwargs)


@pytest.fixture(scope="session")
def pong_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """One short real training run on the Pong ROM (CPU), shared by the tests that inspect it."""
    runs = tmp_path_factory.mktemp("runs")
    proc = run_script("--envs", "2", "--max-frames", "3000", "--runs-dir", str(runs), "--name", "smoke")
    dirs = sorted(runs.iterdir())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(dirs) == 1, dirs
    return proc, dirs[0]
