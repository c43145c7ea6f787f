"""--sticky P: ALE's sticky actions in every training env, on both backends, stored with the model."""

import numpy as np
import pytest
import torch
from conftest import model_data, run_script

import train_a2c_pong as t

ACTIONS = np.random.default_rng(0).integers(1, 6, 300)  # never NOOP


def pipeline_frames(backend: str, sticky: float, actions: np.ndarray) -> np.ndarray:
    """Env 0 of the training pipeline (built as train() builds it), stepped with `actions`."""
    cfg = t.Config(backend=backend, envs=1, seed=3, env_threads=1, sticky=sticky)
    _, source, _ = t.net_and_source(cfg, torch.device("cpu"))
    if backend == "vector":
        env = source.env
        return np.stack([env.reset(seed=cfg.seed)[0][0], *(env.step(np.array([a]))[0][0] for a in actions)])
    (env,) = source.pool
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == pytest.approx(sticky)
    return np.stack([env.reset()[0], *(env.step(int(a))[0] for a in actions)])


@pytest.mark.parametrize("backend", ["vector", "ptan"])
def test_sticky_actions_reach_the_training_emulator(backend):
    noop = np.zeros_like(ACTIONS)
    # P = 1: ALE repeats its first action (NOOP) forever, so what the agent asks for is ignored;
    # AtariVectorEnv does not expose the value, this shows it reached the emulator.
    assert np.array_equal(pipeline_frames(backend, 1.0, ACTIONS), pipeline_frames(backend, 1.0, noop))
    plain = pipeline_frames(backend, 0.0, ACTIONS)
    assert not np.array_equal(plain, pipeline_frames(backend, 0.0, noop))
    assert np.array_equal(plain, pipeline_frames(backend, 0.0, ACTIONS))
    assert not np.array_equal(plain, pipeline_frames(backend, 0.25, ACTIONS))


@pytest.mark.slow
def test_a_sticky_run_stores_its_p_plays_with_it_and_resumes_only_with_it(tmp_path):
    proc = run_script("--sticky", "0.25", "--envs", "2", "--max-frames", "260", "--runs-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = tmp_path.iterdir()
    ckpt = t.load_checkpoint(str(run_dir / "checkpoint.pt"))
    assert ckpt["config"]["sticky"] == 0.25 and ckpt["pipeline"] == t.pipeline("vector", 0.25)
    model = run_dir / "checkpoint.pt"
    assert t.load_model(model)[1]["repeat_action_probability"] == 0.25
    proc = run_script("--play", str(model), "--episodes", "1")
    assert proc.returncode == 0, proc.stderr
    assert "(sticky actions 0.25, as trained)" in proc.stdout
    proc = run_script("--play", str(model), "--episodes", "1", "--sticky", "0")
    assert "(sticky actions 0, trained with 0.25)" in proc.stdout
    proc = run_script("--resume", str(run_dir / "checkpoint.pt"), "--sticky", "0", "--max-frames", "10")
    assert proc.returncode == 2 and "was trained with --sticky 0.25, not 0.0" in proc.stderr


def test_a_model_saved_before_sticky_training_existed_plays_as_trained_without(tmp_path):
    data = model_data()
    del data["pipeline"]["repeat_action_probability"]
    torch.save(data, tmp_path / "old.pt")
    assert t.load_model(tmp_path / "old.pt")[1] == t.pipeline("vector", 0.0)
