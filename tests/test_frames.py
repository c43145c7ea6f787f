"""The default backend's frames are the notebook's: ptan 0.7's wrap_dqn, computed here from its
formulas on the RGB screens of the same emulator states.

ptan 0.7 (the notebook's `pip install ptan>=0.7`, file ptan/common/wrappers.py) made a frame as
ProcessFrame84: grayscale in float as 0.299 R + 0.587 G + 0.114 B of the max of the last two RGB
screens, cv2.resize to 84 wide x 110 high with INTER_AREA, rows 18:102, astype(uint8); then
ImageToPyTorch's np.swapaxes(obs, 2, 0) (a transpose); FrameStack(4) filled with the first frame.
Two AtariVectorEnvs with one seed and the same actions pass through the same emulator states:
one makes our frames, the other (rgb=True) hands over the max-pooled RGB screens.
"""

import cv2
import numpy as np
import pytest

import train_a2c_pong as t

ENVS, STEPS = 4, 300


def process_frame84(rgb: np.ndarray) -> np.ndarray:
    """ptan 0.7's ProcessFrame84.process followed by ImageToPyTorch, on one 210x160 RGB screen."""
    img = rgb.astype(np.float32)
    img = img[:, :, 0] * 0.299 + img[:, :, 1] * 0.587 + img[:, :, 2] * 0.114
    resized_screen = cv2.resize(img, (84, 110), interpolation=cv2.INTER_AREA)
    x_t = np.reshape(resized_screen[18:102, :], [84, 84, 1]).astype(np.uint8)
    return np.swapaxes(x_t, 2, 0)[0]


@pytest.fixture(scope="module")
def lockstep():
    """Our observations and the notebook's, step by step, for random actions from a seeded reset."""
    ours, screens = t.make_vector_env(ENVS, 1), t.make_vector_env(ENVS, 1, rgb=True)
    obs, info = ours.reset(seed=7)
    rgb, rgb_info = screens.reset(seed=7)
    assert np.array_equal(info["episode_frame_number"], rgb_info["episode_frame_number"])
    rng = np.random.default_rng(0)
    seen, expected = [obs], []
    stacks = [[process_frame84(rgb[i, 0])] * 4 for i in range(ENVS)]  # FrameStack.reset
    expected.append(np.stack([np.stack(s) for s in stacks]))
    for _ in range(STEPS):
        actions = rng.integers(0, 6, ENVS)
        obs, reward, terminated, truncated, _ = ours.step(actions)
        rgb, rgb_reward, *_ = screens.step(actions)
        assert np.array_equal(reward, rgb_reward)
        for i in range(ENVS):
            frame = process_frame84(rgb[i, 0])
            stacks[i] = [frame] * 4 if terminated[i] or truncated[i] else stacks[i][1:] + [frame]
        seen.append(obs)
        expected.append(np.stack([np.stack(s) for s in stacks]))
    return np.stack(seen).astype(np.int16), np.stack(expected).astype(np.int16)


def test_frames_are_ptan_07s_to_within_one_gray_level_but_where_max_pooling_order_differs(lockstep):
    ours, notebook = lockstep
    assert ours.shape == notebook.shape == (STEPS + 1, ENVS, 4, 84, 84)
    diff = np.abs(ours - notebook)
    # Measured: 98.4% of pixels equal, 1.5% one level apart (ALE's integer gray palette and uint8
    # resize round, where the notebook truncates a float image), 0.12% up to 15 apart: ALE
    # max-pools gray screens, the notebook RGB ones before converting, which differs where a
    # moving paddle or ball crosses the background.
    assert (diff == 0).mean() > 0.97
    assert (diff > 1).mean() < 0.004
    assert diff.max() <= 24
    assert diff.mean() < 0.06


def test_an_episode_starts_with_four_copies_of_its_first_frame(lockstep):
    ours, _ = lockstep
    first = ours[0]
    assert all(np.array_equal(first[i, k], first[i, 3]) for i in range(ENVS) for k in range(3))
    assert first[:, 3].any(axis=(1, 2)).all()  # a real screen, not the zeros ale-py puts there


def test_the_score_band_is_cut_off_and_the_frame_is_transposed():
    env = t.make_vector_env(1, 1)
    obs, _ = env.reset(seed=3)
    screens = t.make_vector_env(1, 1, rgb=True)
    rgb = screens.reset(seed=3)[0][0, 0]
    gray = cv2.resize(rgb.astype(np.float32) @ np.float32([0.299, 0.587, 0.114]), (84, 110),
                      interpolation=cv2.INTER_AREA).astype(np.uint8)
    with_score = np.abs(gray[:84].T.astype(int) - obs[0, 3]).mean()
    cropped = np.abs(gray[18:102].T.astype(int) - obs[0, 3]).mean()
    untransposed = np.abs(gray[18:102].astype(int) - obs[0, 3]).mean()
    assert cropped < 0.1 < min(with_score, untransposed)


@pytest.mark.slow
def test_resets_draw_their_no_ops_at_random():
    """ale-py's reset presses FIRE for one frame, then takes k - 1 no-op frames, k uniform in
    0..29 (noop_max=30): 1 to 29 emulator frames before the first observation."""
    env = t.make_vector_env(64, 1)
    _, info = env.reset(seed=11)
    counts = info["episode_frame_number"]
    assert counts.min() >= 1 and counts.max() <= 29
    assert len(set(counts.tolist())) >= 15  # 64 draws from 29 values


def ale_arguments(monkeypatch) -> dict:
    """What make_vector_env(2) hands ale-py's AtariVectorEnv."""
    import ale_py.vector_env

    seen = {}

    class Recorder:
        def __init__(self, game, **kwargs):
            seen.update(kwargs)
            raise RuntimeError("recorded")

    monkeypatch.setattr(ale_py.vector_env, "AtariVectorEnv", Recorder)
    with pytest.raises(RuntimeError, match="recorded"):
        t.make_vector_env(2)
    return seen


def test_every_setting_that_matters_is_passed_explicitly(monkeypatch):
    seen = ale_arguments(monkeypatch)
    assert seen["repeat_action_probability"] == 0.0 and seen["full_action_space"] is False
    assert seen["max_num_frames_per_episode"] == 108_000 and seen["noop_max"] == 30
    assert (seen["img_height"], seen["img_width"], seen["stack_num"]) == (110, 84, 1)  # stacked by us
    assert seen["frameskip"] == 4 and seen["maxpool"] and seen["episodic_life"] and seen["reward_clipping"]


def test_the_envs_take_one_thread_per_core_the_process_may_use_not_per_core_of_the_machine(monkeypatch):
    """Under taskset, a container's CPU limit or a job's share, one thread per core of the machine
    would crowd the few cores the process has."""
    monkeypatch.setattr(t.os, "cpu_count", lambda: 64)
    monkeypatch.setattr(t.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert ale_arguments(monkeypatch)["num_threads"] == 3


@pytest.mark.slow
def test_the_next_game_starts_with_four_copies_of_its_first_frame_after_a_game_ends():
    """A game played to its end: the step that ends it returns the next game's first frame (same-step
    reset), stacked four times as ptan 0.7's FrameStack.reset does, then stacks as usual."""
    ours, screens = t.make_vector_env(1, 1), t.make_vector_env(1, 1, rgb=True)
    ours.reset(seed=5)
    screens.reset(seed=5)
    rng = np.random.default_rng(1)
    ended, after = None, []
    for step in range(20_000):  # a game of random play lasts about a thousand steps
        actions = rng.integers(0, 6, 1)
        obs, _, terminated, truncated, _ = ours.step(actions)
        rgb = screens.step(actions)[0]
        if ended is None and (terminated[0] or truncated[0]):
            ended = step
        if ended is not None:
            after.append((obs[0].astype(np.int16), process_frame84(rgb[0, 0]).astype(np.int16)))
            if len(after) == 4:
                break
    assert ended is not None and ended > 300  # past what the lockstep fixture sees
    first = after[0][0][3]
    for k, (seen, _) in enumerate(after):  # k steps into the new game: 3 - k copies of its first frame
        assert all(np.array_equal(seen[j], first) for j in range(4 - k)), k
        assert all(np.array_equal(seen[3 - k + j], after[j][0][3]) for j in range(k + 1)), k
        formula = np.stack([after[max(0, j - (3 - k))][1] for j in range(4)])  # ptan 0.7's FrameStack
        diff = np.abs(seen - formula)
        # Measured: the game's first frame after FIRE alone is one gray level above the formula almost
        # everywhere, the frames after it as the lockstep test finds them.
        assert (diff <= 1).mean() > 0.99 and diff.max() <= 24, k


def test_frames_stacked_here_are_ale_pys_stack_of_four_cut_turned_and_filled(monkeypatch):
    """ale-py hands over its newest frame and NotebookFrames stacks it: the same arrays as ale-py's own
    stack of four with each slot cut, transposed and, before a game's first frame, that frame. Games
    end every 40 steps here (truncated), at staggered no-op starts, so starts fall mid-stack."""
    from ale_py.vector_env import AtariVectorEnv

    monkeypatch.setitem(t.PIPELINES["vector"], "max_frames_per_episode", 160)
    ours = t.make_vector_env(ENVS, 1)
    theirs = AtariVectorEnv(
        t.ALE_GAME, num_envs=ENVS, num_threads=1, max_num_frames_per_episode=160, noop_max=30,
        episodic_life=True, reward_clipping=True, use_fire_reset=True, img_height=110, img_width=84,
        stack_num=4, frameskip=4, maxpool=True, autoreset_mode="SameStep")  # as before it stacked here
    obs, _ = ours.reset(seed=9)
    four, _ = theirs.reset(seed=9)
    age, ends, rng = np.zeros(ENVS, int), 0, np.random.default_rng(2)
    for step in range(200):
        cut = four[:, :, 18:102].transpose(0, 1, 3, 2)
        for i in range(ENVS):
            first = max(0, 3 - age[i])  # slots before the game's first frame hold that frame
            expected = np.concatenate([cut[i, first:first + 1]] * first + [cut[i, first:]])
            assert np.array_equal(obs[i], expected), (step, i)
        actions = rng.integers(0, 6, ENVS)
        obs, _, terminated, truncated, _ = ours.step(actions)
        four, _, their_end, their_cut, _ = theirs.step(actions)
        ended = terminated | truncated
        assert np.array_equal(ended, their_end | their_cut)
        age, ends = np.where(ended, 0, age + 1), ends + ended.sum()
    assert ends >= 3 * ENVS
    theirs.close()
