"""make setup checks the Python it is given before it builds anything; make train adds the fastest
settings proven on Pong on the machine, and only those."""

import os
import re
import shutil
import subprocess

import pytest
import seeds
import torch
import train_flags
from conftest import ROOT

import train_a2c_pong as t


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
FAST = "--bf16 --compile"


def row(seed: int, numerics: str, frames: int, state: str = "solved") -> seeds.Row:
    return seeds.Row(seed, numerics, state, frames, 0, 0.0, 0, "here", "abc", "x.csv")


FLOAT32 = [row(1, "float32", 6_000_000), row(2, "float32", 7_000_000), row(42, "float32", 5_900_000)]


@pytest.mark.parametrize("fast,says", [
    ([], "solved on 0 seeds, not yet two"),
    ([row(42, "bf16-compile", 6_500_000)], "solved on 1 seed, not yet two"),
    ([row(42, "bf16-compile", 6_500_000), row(1, "bf16-compile", 7_100_000)],
     "seed 1 solved at 7.10M frames, outside float32's 5.90M-7.00M"),
    ([row(42, "bf16-compile", 6_500_000), row(1, "bf16-compile", 3_000_000, "running")],
     "seed 1 run is running"),
    ([row(42, "bf16-compile", 6_500_000), row(1, "bf16-compile", 7_200_000, "capped")],
     "seed 1 passed 7.00M frames, float32's slowest, unsolved"),
    ([row(42, "bf16-compile", 6_500_000), row(3, "bf16-compile", 6_100_000)], "seed 3 has no float32 run"),
    ([row(42, "bf16-compile", 5_900_000), row(1, "bf16-compile", 7_000_000)], None),
])
def test_bf16_compile_is_proven_by_two_seeds_each_solved_within_the_float32_seeds_frames(fast, says):
    why = train_flags.not_proven(FLOAT32 + fast)
    assert why == says if says is None else says in why


def test_make_train_adds_them_only_to_a_new_run_on_a_cpu_with_native_bf16_and_a_compiler(monkeypatch,
                                                                                         tmp_path):
    import torch._inductor.config as inductor

    proven = FLOAT32 + [row(42, "bf16-compile", 6_000_000), row(1, "bf16-compile", 6_100_000)]
    monkeypatch.setattr(t, "check_bf16", lambda device: None)  # as on a CPU with native bfloat16
    for args in (["--resume", "x"], ["--play=m.pt"], ["--no-compile"], ["--bf16", "--envs", "4"]):
        assert train_flags.choose(args, False, proven)[0] == []
        assert train_flags.choose(args, True, proven)[0] == ["--cuda"]  # a run's own settings, on the GPU
    assert train_flags.choose([], True, proven)[0] == ["--cuda"]  # nothing faster proven on a GPU
    flags, why = train_flags.choose([], False, proven[:-1])
    assert flags == [] and "not yet two" in why
    if shutil.which(os.environ.get("CXX", "g++")):
        assert train_flags.choose(["--seed", "1"], False, proven)[0] == FAST.split()
    monkeypatch.setattr(inductor.cpp, "cxx", (None, str(tmp_path / "no-such-c++")))
    flags, why = train_flags.choose([], False, proven)
    assert flags == [] and "no C++ compiler" in why
    monkeypatch.undo()

    def no_bf16(device):
        raise t.UsageError("no native bfloat16")

    monkeypatch.setattr(t, "check_bf16", no_bf16)
    flags, why = train_flags.choose([], False, proven)
    assert flags == [] and "this one has none" in why


def test_the_readme_says_what_make_train_chose_on_the_seed_table_and_why():
    why = train_flags.not_proven(seeds.read_table())
    readme = " ".join((ROOT / "README.md").read_text().split())
    if why is None:
        assert "`make train` adds `--bf16 --compile`" in readme
    else:
        assert "`make train` runs the notebook's float32" in readme
        for figure in re.findall(r"\d+\.\d+M(?:-\d+\.\d+M)?|not yet two", why):  # frames, range
            assert figure in readme, why


@pytest.mark.skipif(shutil.which("make") is None or not (VENV / ".installed").is_file(),
                    reason="needs make and the venv of make setup")
@pytest.mark.parametrize("args", ["--help", "--resume /no/checkpoint.pt"])
def test_make_train_says_the_settings_it_chose_and_the_command_it_runs(args):
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), "train", f"ARGS={args}"], capture_output=True,
                          text=True, timeout=120)
    first = proc.stdout.splitlines()[0]
    fast = (train_flags.not_proven(seeds.read_table()) is None
            and not torch.cuda.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
            and shutil.which(os.environ.get("CXX", "g++")) and args == "--help")
    cuda = " --cuda" if torch.cuda.is_available() else ""
    added = cuda + (" " + FAST if fast else "")
    assert first == f"{VENV.relative_to(ROOT)}/bin/python train_a2c_pong.py{added} {args}"
    assert proc.stderr.startswith("make train: ")
    if args == "--help":
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[1].startswith("usage: train_a2c_pong.py")
    else:  # a resumed run keeps its own settings: nothing added, and the script's one-line refusal
        assert proc.returncode != 0 and "your ARGS choose" in proc.stderr and "no such file" in proc.stderr
