"""make setup checks the Python it is given before it builds anything."""

import shutil
import subprocess

import pytest
from conftest import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("version,says", [("3.9", "'{py}' is 3.9"), (None, "'{py}' is not found")])
def test_setup_names_the_python_it_needs_in_one_line(tmp_path, version, says):
    py = tmp_path / "python-fake"
    if version:  # answers the version question like an old Python, fails the version check
        py.write_text(f'#!/bin/sh\ncase "$*" in *print*) echo {version};; *) exit 1;; esac\n')
        py.chmod(0o755)
    venv = tmp_path / "venv"
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), "setup", f"PYTHON={py}", f"VENV={venv}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    line = proc.stdout.strip()
    assert line.count("\n") == 0 and says.format(py=py) in line
    assert "make setup PYTHON=python3.12" in line
    assert not venv.exists()  # nothing built


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_setup_installs_what_the_program_needs_and_test_adds_the_test_tools(tmp_path):
    def plan(target: str) -> str:  # make -n: the commands it would run, none of them run
        return subprocess.run(["make", "-n", "-C", str(ROOT), target, f"VENV={tmp_path / 'venv'}"],
                              capture_output=True, text=True, timeout=60).stdout

    setup, test = plan("setup"), plan("test")
    assert "-r requirements.txt" in setup and "requirements-dev.txt" not in setup
    assert "-r requirements-dev.txt" in test and "pytest" in test


VENV = ROOT / ".venv"


@pytest.mark.skipif(shutil.which("make") is None or not (VENV / ".installed").is_file(),
                    reason="needs make and the venv of make setup")
def test_make_train_says_the_command_it_runs():
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), "train", "ARGS=--help"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()[:2]
    cuda = " --cuda" if "--cuda" in first else ""
    assert first == f"{VENV.relative_to(ROOT)}/bin/python train_a2c_pong.py{cuda} --help"
    assert second.startswith("usage: train_a2c_pong.py")
