"""--compile and --bf16's acting copy: new numeric paths, so each is held to the eager float32
net on the same weights and batch within a stated tolerance (tests/test_learning.py shows they
learn). Tolerances: float32 kernels that fuse or reorder sums differ from eager's in the last
bits, so outputs agree to 1e-4 relative and one update's weights to 1e-6; bfloat16 keeps 8
significant bits, so its outputs agree to 2% of their scale."""

import copy
import dataclasses
import gc
import os
import subprocess
import sys
import warnings
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import model_data
from torch._dynamo.utils import counters

import train_a2c_pong as t

ROOT = Path(__file__).resolve().parent.parent
CPU = torch.device("cpu")
SHAPE = (4, 84, 84)


def frames(n: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, *SHAPE), dtype=torch.uint8, generator=generator)


def pair(bf16: bool = False) -> tuple[t.AtariA2C, t.AtariA2C]:
    """Two nets with the same weights, placed as the program places them."""
    torch.manual_seed(0)
    ref = t.place(t.AtariA2C(SHAPE, 6), CPU)
    other = t.place(copy.deepcopy(ref), CPU, bf16)
    return ref, other


@pytest.fixture(scope="module")
def compiled(compiles) -> tuple[t.AtariA2C, t.AtariA2C, float]:
    ref, net = pair()
    rng = torch.get_rng_state()
    seconds = t.compile_net(net, net, CPU, envs=50, batch_size=128)
    assert torch.equal(torch.get_rng_state(), rng)  # the warm-up draws nothing: runs stay seeded
    assert all(p.grad is None for p in net.parameters())  # nor leaves a gradient behind
    return ref, net, seconds


def test_compiled_forward_passes_agree_with_eager_and_compile_nothing_new(compiled):
    ref, net, _ = compiled
    graphs = counters["stats"]["unique_graphs"]
    for n in (50, 128, 77, 15, 3, 1):
        x = frames(n, seed=n)
        if n == 50:  # acting: the logits, on frames made in inference mode, as policy_sampler makes them
            with torch.inference_mode():
                got, want = net(x.clone(), value=False)[0], ref(x)[0]
        else:  # unpack_batch's last states, 1 to 128 of them: their values
            with torch.no_grad():
                got, want = net(x, policy=False)[1], ref(x)[1]
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    assert counters["stats"]["unique_graphs"] == graphs  # the warm-up compiled every shape training uses


def test_a_compiled_update_agrees_with_eager(compiled):
    ref, net, _ = compiled
    net.load_state_dict(ref.state_dict())
    cfg = t.Config()
    x, actions, targets = frames(128, seed=1), torch.randint(0, 6, (128,)), torch.randn(128)
    for with_grad_stats in (True, False):
        metrics = []
        for model in (ref, net):
            optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
            metrics.append(t.a2c_update(model, optimizer, x, actions, targets, cfg, with_grad_stats))
        for key, want in metrics[0].items():
            torch.testing.assert_close(metrics[1][key], want, rtol=1e-4, atol=1e-6, equal_nan=True, msg=key)
        for (name, w), g in zip(ref.state_dict().items(), net.state_dict().values(), strict=True):
            torch.testing.assert_close(g, w, rtol=0, atol=1e-6, msg=name)
        assert not torch.equal(ref.policy[2].weight, pair()[0].policy[2].weight)  # the step moved them


def test_bf16_acting_copy_agrees_with_float32_and_autocast_and_recasts_once_per_step():
    ref, net = pair(bf16=True)  # this CPU may emulate bf16: slow, but the numbers are bf16's
    acting = t.Bf16Copy(net)
    x = frames(50, seed=2)
    with torch.inference_mode():
        (logits, values), (want_l, want_v), (auto_l, auto_v) = acting(x), ref(x), net(x)
    assert logits.dtype == values.dtype == torch.float32
    for got, want in ((logits, want_l), (values, want_v), (logits, auto_l), (values, auto_v)):
        assert (got - want).abs().max() <= 0.02 * want.abs().max()
    assert acting.casts == 1
    with torch.inference_mode():
        acting(x)
    assert acting.casts == 1  # no update, no new cast
    cfg = t.Config()
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    for with_grad_stats in (True, False):  # two backward passes or one: one cast after each update
        t.a2c_update(net, optimizer, frames(128, seed=3), torch.randint(0, 6, (128,)), torch.randn(128), cfg,
                     with_grad_stats)
        with torch.inference_mode():
            acting(x)
            acting(x)
        for mine, theirs in zip(acting.copy.parameters(), net.parameters(), strict=True):
            assert torch.equal(mine, theirs.detach().to(torch.bfloat16))  # acting on the updated weights
    assert acting.casts == 3


def test_bf16_acting_copy_acts_on_weights_loaded_after_it_was_made():
    """A resumed run loads its checkpoint's weights after the acting copy exists."""
    _, net = pair(bf16=True)
    acting = t.Bf16Copy(net)
    torch.manual_seed(5)
    net.load_state_dict(t.AtariA2C(SHAPE, 6).state_dict())
    with torch.inference_mode():
        acting(frames(2))
    for mine, theirs in zip(acting.copy.parameters(), net.parameters(), strict=True):
        assert torch.equal(mine, theirs.detach().to(torch.bfloat16))


@pytest.mark.slow
@pytest.mark.usefixtures("compiles")
def test_a_compiled_training_run_compiles_nothing_past_its_warm_up(tmp_path, monkeypatch):
    """Acting reads the frames the experience source made, in inference mode as the warm-up's: frames
    of another kind would compile a second graph mid-run, unannounced and left out of compile_seconds."""
    from catch_env import CatchVectorEnv

    warm, real = [], t.compile_net

    def compile_net(*args, **kwargs):
        seconds = real(*args, **kwargs)
        warm.append(counters["stats"]["unique_graphs"])
        return seconds

    monkeypatch.setattr(t, "compile_net", compile_net)
    cfg = t.Config(runs_dir=str(tmp_path), envs=8, max_frames=1280, compile=True)
    result = t.train(cfg, env=CatchVectorEnv(cfg.envs))
    assert result.frames == 1280 and warm and counters["stats"]["unique_graphs"] == warm[0]


@pytest.mark.slow
def test_compile_without_a_cxx_compiler_is_one_line_and_no_run(tmp_path):
    env = {**os.environ, "CXX": str(tmp_path / "no-such-c++"),
           "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "cache")}  # a cache would spare the compiler
    runs = tmp_path / "runs"
    proc = subprocess.run([sys.executable, str(ROOT / "train_a2c_pong.py"), "--compile", "--envs", "2",
                           "--max-frames", "10", "--runs-dir", str(runs)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--compile: torch.compile cannot run here" in lines[0], proc.stderr
    assert "add --no-compile" in lines[0] and "a C++ compiler and Python's headers" in lines[0]
    assert not runs.exists() or not any(runs.iterdir())


def test_a_failed_compile_is_said_in_one_line_without_inductors_warnings():
    net = t.AtariA2C(SHAPE, 6)

    class Failing:  # an acting copy whose compiled forward warns and fails, as inductor without Python.h
        copy = net

        def __call__(self, *args, **kwargs):
            warnings.warn("Can't find Python.h in /usr/include/python3.14", stacklevel=1)
            raise RuntimeError("C++ compile error\n(inductor's long output)")

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(t.UsageError) as error:
            t.compile_net(net, Failing(), CPU, envs=2)
    assert "(C++ compile error; it needs a C++ compiler and Python's headers)" in str(error.value)
    assert not [w for w in seen if "Python.h" in str(w.message)]


@pytest.mark.slow
@pytest.mark.usefixtures("compiles")
def test_play_with_compile_acts_with_a_compiled_net_that_agrees_with_the_model(tmp_path, monkeypatch, capsys):
    torch.manual_seed(0)
    path = tmp_path / "m.pt"
    torch.save(model_data(t.Config()), path)
    acting = {}

    def sampler(net, device, greedy=False):
        acting["net"] = net
        return lambda obs: np.array([0])  # the network is not needed to end a game

    monkeypatch.setattr(t, "policy_sampler", sampler)
    t.play(str(path), 1, None, CPU, seed=1, compile=True)
    assert "compiled the network in" in capsys.readouterr().out
    net, _ = t.load_model(path)
    x = frames(1, seed=4)
    with torch.inference_mode():
        got, want = acting["net"](x.clone(), value=False)[0], net(x)[0]  # the logits, as play acts
    assert acting["net"]._compiled_call_impl is not None  # nn.Module.compile's, in place
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["train", "play"])
def test_a_failed_compile_lets_go_of_the_envs_though_its_frames_are_kept(monkeypatch, tmp_path, mode):
    """torch may hold a failed compile's frames to the end of the process (Python 3.14 with g++ and no
    Python.h); envs alive then are reported leaked by ale-py, many lines under the one-line error. The
    error kept here, frames and all, as torch keeps it: the envs must be gone."""
    made, real = [], t.make_vector_env

    def recorded(env):
        made.append(weakref.ref(env))
        return env

    def compile_fails(*args, **kwargs):
        raise t.UsageError("--compile: torch.compile cannot run here (a stand-in)")

    monkeypatch.setattr(t, "make_vector_env", lambda *a, **k: recorded(real(*a, **k)))  # play's too
    monkeypatch.setattr(t, "compile_net", compile_fails)
    with pytest.raises(t.UsageError) as kept:
        if mode == "train":
            t.net_and_source(dataclasses.replace(t.Config(), compile=True, envs=2), CPU)
        else:
            path = tmp_path / "m.pt"
            torch.save(model_data(t.Config()), path)
            t.play(str(path), 1, None, CPU, seed=1, compile=True)
    gc.collect()
    assert made and all(env() is None for env in made) and kept.value.__traceback__ is not None
