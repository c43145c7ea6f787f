"""The program on a CUDA GPU, each test a real run there (issue 42): skipped where CUDA is absent,
run by `make gpu-check` (tools/gpu_check.sh) on a GPU box.

Tolerances of the GPU's losses against the CPU's float32 on the same weights and batch: cuDNN's
convolutions run in TF32 by default (10 significant bits, torch.backends.cudnn.allow_tf32) and
sum in another order, so the float32 paths (the default, --compile) agree to 1% of a loss's
scale; --bf16 keeps 8 significant bits, so it agrees to 5%.
"""

import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import NOTEBOOK_METRICS, points, run_script, scalars

import train_a2c_pong as t

CUDA = torch.device("cuda")
CPU = torch.device("cpu")
pytestmark = [pytest.mark.gpu, pytest.mark.slow,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")]

FLAGS = {"default": [], "compile": ["--compile"], "bf16": ["--bf16"], "async-envs": ["--async-envs"]}
FRAMES = 5000  # 39 updates of 128: three TensorBoard points of the notebook's metrics
RTOL = {"default": 1e-2, "compile": 1e-2, "bf16": 5e-2}


def cuda_run(runs: Path, *flags: str) -> Path:
    """`python train_a2c_pong.py --cuda` for FRAMES frames on Pong, in a subprocess; its run folder."""
    proc = run_script("--cuda", *flags, "--max-frames", str(FRAMES), "--runs-dir", str(runs), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.startswith("training on cuda: "), proc.stdout[:200]
    (run_dir,) = runs.iterdir()
    return run_dir


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> Path:
    return cuda_run(tmp_path_factory.mktemp("cuda"))


def finite_scalars(run_dir: Path) -> None:
    acc = scalars(run_dir)
    for name in NOTEBOOK_METRICS:
        values = [e.value for e in acc.Scalars(name)]
        assert values and np.isfinite(values).all(), (name, values)
    assert max(e.step for e in acc.Scalars("loss_total")) == FRAMES


@pytest.mark.parametrize("variant", list(FLAGS))
def test_each_path_trains_on_the_gpu_with_finite_scalars(variant, default_run, tmp_path):
    finite_scalars(default_run if variant == "default" else cuda_run(tmp_path, *FLAGS[variant]))


def pong_batch(n: int = 128) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n real Pong states (8 envs, random actions), random actions and N-step-sized targets."""
    env = t.make_vector_env(8)
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(3)
    states = []
    while len(states) * 8 < n:
        obs, *_ = env.step(rng.integers(0, 6, 8))
        states.append(obs)
    env.close()
    states = torch.from_numpy(np.concatenate(states)[:n])
    return states, torch.from_numpy(rng.integers(0, 6, n)), torch.from_numpy(rng.uniform(-1, 1, n)).float()


@pytest.mark.parametrize("variant", list(RTOL))
def test_one_batchs_losses_on_the_gpu_agree_with_the_cpus_float32(variant):
    states, actions, targets = pong_batch()
    torch.manual_seed(0)
    ref = t.place(t.AtariA2C((4, 84, 84), 6), CPU)
    net = t.place(t.AtariA2C((4, 84, 84), 6), CUDA, bf16=variant == "bf16")
    net.load_state_dict(ref.state_dict())
    if variant == "compile":
        t.compile_net(net, net, CUDA, envs=50, batch_size=128)
    want = t.a2c_losses(ref, states, actions, targets, 0.01)
    got = t.a2c_losses(net, states.to(CUDA), actions.to(CUDA), targets.to(CUDA), 0.01)
    for name in ("policy", "value", "entropy", "values"):
        a, b = getattr(want, name).detach(), getattr(got, name).detach().cpu()
        scale = a.abs().max().item()
        assert (a - b).abs().max().item() <= RTOL[variant] * scale, (name, a, b)


class SignalAt:
    """A vector env that sends this process SIGINT at its k-th step, as Ctrl-C would."""

    def __init__(self, env, k: int) -> None:
        self.env, self.k, self.steps = env, k, 0

    def __getattr__(self, name):
        return getattr(self.env, name)

    def step(self, actions):
        self.steps += 1
        if self.steps == self.k:
            os.kill(os.getpid(), signal.SIGINT)
        return self.env.step(actions)


def test_a_run_stopped_by_sigint_resumes_on_the_gpu_as_determined_as_an_unbroken_one(
        tmp_path, deterministic, monkeypatch):
    """With deterministic algorithms: up to the stop, the stopped run's scalars are the unbroken
    run's; the resumed segment starts from the checkpoint's CUDA random state, and two resumes of
    one checkpoint give the same scalars. (Past the stop the unbroken run's differ by design: a
    resumed segment's emulators start new games, seeded seed + k x envs: README, Resume.)"""
    cfg = t.Config(envs=8, cuda=True, max_frames=3000, save_every=1e9, runs_dir=str(tmp_path / "a"))
    unbroken = t.train(cfg, env=t.make_vector_env(8))
    cfg_b = t.Config(**{**vars(cfg), "runs_dir": str(tmp_path / "b")})
    stopped = t.train(cfg_b, env=SignalAt(t.make_vector_env(8), k=300))
    assert stopped.stopped_by == "SIGINT" and 2000 < stopped.frames < 2600, stopped
    stop = stopped.frames
    before = points(unbroken.run_dir, lambda step: step < stop)
    assert before["loss_total"] and before == points(stopped.run_dir, lambda step: step < stop)

    copy = tmp_path / "c" / stopped.run_dir.name
    shutil.copytree(stopped.run_dir, copy)
    ckpt = t.load_checkpoint(str(stopped.run_dir / "checkpoint.pt"))
    torch.manual_seed(cfg.seed)
    fresh = torch.cuda.get_rng_state()
    assert not torch.equal(ckpt["rng"]["cuda"][0], fresh)  # the stopped run drew from it
    seen = []
    real = t.set_rng_state
    monkeypatch.setattr(t, "set_rng_state", lambda s: (real(s), seen.append(torch.cuda.get_rng_state())))
    for run_dir in (stopped.run_dir, copy):
        resumed_cfg = t.resume_config(t.Config(cuda=True, max_frames=2600), set(), ckpt, "checkpoint.pt")
        again = t.load_checkpoint(str(run_dir / "checkpoint.pt"))
        t.train(resumed_cfg, env=t.make_vector_env(8), resume=again, run_dir=run_dir)
    assert len(seen) == 2 and all(torch.equal(s, ckpt["rng"]["cuda"][0]) for s in seen)
    after = points(stopped.run_dir, lambda step: step > stop)
    assert after["loss_total"] and after == points(copy, lambda step: step > stop)


def test_a_gpu_checkpoint_resumes_and_its_model_plays_on_the_cpu(default_run, tmp_path):
    run_dir = tmp_path / default_run.name
    shutil.copytree(default_run, run_dir)
    proc = run_script("--resume", str(run_dir), "--max-frames", "1000", timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.startswith("training on cpu"), proc.stdout[:200]
    assert t.load_checkpoint(str(run_dir / "checkpoint.pt"))["frame"] == FRAMES + 1000
    proc = run_script("--play", str(default_run / "checkpoint.pt"), "--episodes", "1", timeout=600)
    assert proc.returncode == 0 and "game 1: score" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_play_and_record_on_the_gpu(default_run, tmp_path):
    gif = tmp_path / "game.gif"
    proc = run_script("--play", str(default_run / "checkpoint.pt"), "--cuda", "--episodes", "1",
                      "--record", str(gif), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.startswith("playing on cuda"), proc.stdout[:200]
    assert gif.stat().st_size > 10_000 and gif.read_bytes()[:6] == b"GIF89a"
