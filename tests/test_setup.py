"""make setup checks the Python it is given before it builds anything; make train adds the fastest
settings proven on Pong on the machine, and only those."""

import shutil
import subprocess
import sys

import pytest
import seeds
import torch
import train_flags
from conftest import ROOT

import train_a2c_pong as t


def setup_with(py, version: str | None, venv) -> subprocess.CompletedProcess:
    """make setup with PYTHON a stand-in at `py`: where `version` is given, this Python answering
    `-c CODE` as if it were that version and failing anything else (so no venv is made)."""
    if version:
        major, minor = version.split(".")
        py.write_text(f'#!/bin/sh\n[ "$1" = -c ] || exit 1\nexec {sys.executable} -c "import sys; '
                      f'sys.version_info = ({major}, {minor}, 0, \'final\', 0); exec(sys.argv[1])" "$2"\n')
        py.chmod(0o755)
    return subprocess.run(["make", "-s", "-C", str(ROOT), "setup", f"PYTHON={py}", f"VENV={venv}"],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("version,says", [("3.9", "'{py}' is 3.9"), ("3.15", "'{py}' is 3.15"),
                                          (None, "'{py}' is not found")])
def test_setup_names_the_python_it_needs_in_one_line(tmp_path, version, says):
    py, venv = tmp_path / "python-fake", tmp_path / "venv"
    proc = setup_with(py, version, venv)
    assert proc.returncode != 0
    line = proc.stdout.strip()
    assert line.count("\n") == 0 and says.format(py=py) in line
    assert "make setup PYTHON=python3.12" in line
    assert not venv.exists()  # nothing built


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("version", ["3.11", "3.14"])
def test_setup_takes_the_pythons_its_pinned_wheels_exist_for(tmp_path, version):
    proc = setup_with(tmp_path / "python-fake", version, tmp_path / "venv")
    assert "venv" in proc.stderr + proc.stdout  # it went on to make the venv (which the stand-in fails)
    assert "needs Python" not in proc.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_setup_installs_what_the_program_needs_and_test_adds_the_test_tools(tmp_path):
    def plan(target: str) -> str:  # make -n: the commands it would run, none of them run
        return subprocess.run(["make", "-n", "-C", str(ROOT), target, f"VENV={tmp_path / 'venv'}"],
                              capture_output=True, text=True, timeout=60).stdout

    setup, test = plan("setup"), plan("test")
    assert "-r requirements.txt -c" in setup and "requirements-dev.txt" not in setup
    assert "constraints.txt" in setup  # the versions the seed runs used
    assert "-r requirements-dev.txt" in test and "pytest" in test


VENV = ROOT / ".venv"
FAST = "--bf16"


def row(seed: int, numerics: str, frames: int, state: str = "solved") -> seeds.Row:
    return seeds.Row(seed, numerics, state, frames, 0, 0.0, 0, "here", "abc", "x.csv")


FLOAT32 = [row(1, "float32", 6_000_000), row(2, "float32", 7_000_000), row(42, "float32", 5_900_000)]
# Five finished bf16 runs, eager and compiled pooled: median 6.5M, within float32's largest (7.0M),
# though one is far above it and one below every float32 run.
BF16 = [row(42, "bf16-compile", 6_500_000), row(1, "bf16-compile", 9_800_000), row(2, "bf16", 3_000_000),
        row(3, "bf16", 6_900_000), row(4, "bf16", 5_000_000)]
SLOW = [*BF16[:3], row(3, "bf16", 7_100_000), row(4, "bf16", 7_500_000)]  # median 7.1M
NARROW = [*BF16[:3], row(3, "bf16", 6_950_000), row(4, "bf16", 7_100_000)]  # median 6.95M, proven


@pytest.mark.parametrize("table,says", [
    (FLOAT32 + BF16, None),
    (FLOAT32 + BF16[:4], "4 bf16 seeds finished, not yet 5"),
    (FLOAT32 + BF16[:4] + [row(4, "bf16", 2_000_000, "running")], "4 bf16 seeds finished, not yet 5"),
    (FLOAT32 + BF16[:4] + [row(4, "bf16", 15_000_000, "capped")], "bf16 seed 4 stopped unsolved at the 15M"),
    (FLOAT32 + SLOW, "bf16's median 7.10M frames is above float32's largest, 7.00M"),
    (FLOAT32 + NARROW, None),
    # a running run can only end above its frames so far (or capped): at 7.5M it settles the verdict
    (FLOAT32 + NARROW + [row(6, "bf16", 7_500_000, "running")],
     "bf16's median will be at least 7.03M frames, above float32's largest, 7.00M, however the running "
     "runs end (seed 6: unsolved at 7.50M so far)"),
    (FLOAT32 + NARROW + [row(6, "bf16", 6_000_000, "running")], None),  # it may yet end below the bar
    (BF16, "no float32 seed has solved"),
    (FLOAT32 + BF16 + [row(9, "float32", 15_000_000, "capped")], None),  # an unsolved float32 run sets no bar
    # a GPU's runs are a class of their own: they neither count as bf16 nor raise float32's bar
    (FLOAT32 + BF16[:4] + [row(5, "cuda-bf16", 5_000_000)], "4 bf16 seeds finished, not yet 5"),
    (FLOAT32 + SLOW + [row(7, "cuda-float32", 20_000_000)], "above float32's largest, 7.00M"),
    # --async-envs runs are a class of their own too, bf16's or not
    (FLOAT32 + BF16[:4] + [row(5, "bf16-async", 5_000_000)], "4 bf16 seeds finished, not yet 5"),
])
def test_bf16_is_proven_by_five_finished_seeds_all_solved_with_a_median_within_float32s_largest(table, says):
    why = train_flags.not_proven(table)
    assert why == says if says is None else says in why


def lagged(rows: list[seeds.Row]) -> list[seeds.Row]:
    return [r._replace(numerics="async") for r in rows]


@pytest.mark.parametrize("table,says", [
    (FLOAT32 + lagged(BF16), None),
    (FLOAT32 + lagged(BF16[:4]), "4 float32-async seeds finished, not yet 5"),
    (FLOAT32 + lagged(SLOW), "float32-async's median 7.10M frames is above float32's largest, 7.00M"),
    (FLOAT32 + lagged(BF16[:4]) + [row(4, "async", 15_000_000, "capped")], "float32-async seed 4 stopped"),
    # bf16 runs, a GPU's and bf16 --async-envs runs are not float32-async's
    (FLOAT32 + BF16, "0 float32-async seeds finished, not yet 5"),
    (FLOAT32 + lagged(BF16[:4]) + [row(5, "cuda-async", 5_000_000), row(6, "bf16-async", 5_000_000)],
     "4 float32-async seeds finished, not yet 5"),
])
def test_async_envs_is_proven_by_the_same_rule_over_its_own_cpu_runs(table, says):
    why = train_flags.not_proven(table, "float32-async")
    assert why == says if says is None else says in why


def test_make_train_adds_async_envs_only_to_a_new_run_on_a_gpu_where_its_runs_prove_it():
    proven = FLOAT32 + lagged(BF16)
    flags, why = train_flags.choose([], True, proven)
    assert flags == ["--cuda", "--async-envs"] and why.startswith("--async-envs on the GPU, proven on Pong")
    assert "its 5 seeds all solved, in a median 6.50M frames (float32's largest: 7.00M)" in why
    assert train_flags.choose(["--seed", "1"], True, proven)[0] == ["--cuda", "--async-envs"]
    assert train_flags.choose([], False, proven)[0] == []  # the CPU trains no faster with it
    for args in (["--resume", "x"], ["--no-async-envs"], ["--async"], ["--backend", "ptan"], ["--bf16"]):
        assert train_flags.choose(args, True, proven)[0] == ["--cuda"]
    flags, why = train_flags.choose([], True, proven[:-1])
    assert flags == ["--cuda"] and why.startswith("float32 on the GPU: --async-envs is not proven on Pong")
    assert "4 float32-async seeds finished, not yet 5" in why


def test_make_train_adds_bf16_only_to_a_new_run_on_a_cpu_with_native_bf16(monkeypatch):
    proven = FLOAT32 + BF16
    monkeypatch.setattr(t, "check_bf16", lambda device: None)  # as on a CPU with native bfloat16
    for args in (["--resume", "x"], ["--play=m.pt"], ["--no-compile"], ["--bf16", "--envs", "4"],
                 ["--resu", "x"], ["--comp"], ["--no-b"], ["--pla=m.pt"], ["--envs", "none"]):
        assert train_flags.choose(args, False, proven)[0] == []
        assert train_flags.choose(args, True, proven)[0] == ["--cuda"]  # a run's own settings, on the GPU
    assert train_flags.choose([], True, proven)[0] == ["--cuda"]  # no --async-envs runs: nothing faster
    flags, why = train_flags.choose([], False, proven[:-1])
    assert flags == [] and why.startswith("the notebook's float32: bf16 is not proven") and "not yet 5" in why
    assert train_flags.choose(["--he"], False, proven)[0] == [FAST]  # ARGS=--help: what it would add
    flags, why = train_flags.choose(["--seed", "1"], False, proven)
    assert flags == [FAST] and why.startswith("--bf16: this CPU has native bfloat16")
    assert "its 5 seeds all solved, in a median 6.50M frames (float32's largest: 7.00M)" in why

    def no_bf16(device):
        raise t.UsageError("no native bfloat16")

    monkeypatch.setattr(t, "check_bf16", no_bf16)
    flags, why = train_flags.choose([], False, proven)
    assert flags == [] and "this CPU has no native bfloat16" in why


@pytest.mark.skipif(shutil.which("make") is None or not (VENV / ".installed").is_file(),
                    reason="needs make and the venv of make setup")
@pytest.mark.parametrize("args", ["--help", "--resume /no/checkpoint.pt"])
def test_make_train_says_the_settings_it_chose_and_the_command_it_runs(args):
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), "train", f"ARGS={args}"], capture_output=True,
                          text=True, timeout=120)
    first = proc.stdout.splitlines()[0]
    fast = (train_flags.not_proven(seeds.read_table()) is None
            and not torch.cuda.is_available() and t.cpu_has_bf16()
            and args == "--help")
    cuda = " --cuda" if torch.cuda.is_available() else ""
    added = cuda + (" " + FAST if fast else "")
    assert first == f"{VENV.relative_to(ROOT)}/bin/python train_a2c_pong.py{added} {args}"
    assert proc.stderr.startswith("make train: ")
    if args == "--help":
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[1].startswith("usage: train_a2c_pong.py")
    else:  # a resumed run keeps its own settings: nothing added, and the script's one-line refusal
        assert proc.returncode != 0 and "your ARGS choose" in proc.stderr and "no such file" in proc.stderr
