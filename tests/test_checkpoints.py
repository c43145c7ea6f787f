"""Watch it play, resume it, and lose nothing (issue: checkpoints, video, bad input)."""

import argparse
import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from catch_env import CatchVectorEnv
from conftest import ENV, ROOT, limit_file_size, points, run_script, scalars, start_script

import train_a2c_pong as t


def catch_cfg(tmp_path, **kw) -> t.Config:
    return t.Config(envs=8, runs_dir=str(tmp_path), stop_reward=100.0, **kw)


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.slow
def test_resume_continues_frames_optimizer_and_reward_window(tmp_path):
    first = t.train(catch_cfg(tmp_path, max_frames=2000), env=CatchVectorEnv(8))
    ckpt1 = t.load_checkpoint(str(first.run_dir / "checkpoint.pt"))
    assert ckpt1["frame"] == 2000 and len(ckpt1["rewards"]) == 100  # the window is full
    # read now: Adam.load_state_dict shares the saved `step` tensor and advances it in place
    updates1 = ckpt1["optimizer"]["state"][0]["step"].item()
    assert updates1 == 2000 // 128

    net = t.AtariA2C((4, 84, 84), 3)
    opt = torch.optim.Adam(net.parameters())
    tracker = t.RewardTracker(writer=None, stop_reward=100)
    tracker.restore(**t.restore(ckpt1, net, opt))
    saved_avg = ckpt1["optimizer"]["state"][0]["exp_avg"]
    assert torch.equal(opt.state_dict()["state"][0]["exp_avg"], saved_avg)
    assert list(tracker.rewards) == ckpt1["rewards"] and tracker.episodes == ckpt1["episodes"]

    cfg = t.resume_config(catch_cfg(tmp_path, max_frames=130), set(), ckpt1, "x/checkpoint.pt")
    second = t.train(cfg, env=CatchVectorEnv(8), resume=ckpt1, run_dir=first.run_dir)
    ckpt2 = t.load_checkpoint(str(first.run_dir / "checkpoint.pt"))
    assert ckpt2["frame"] == 2130 and second.frames == 2130
    new = ckpt2["episodes"] - ckpt1["episodes"]
    assert 0 < new < 100
    assert ckpt2["rewards"][: 100 - new] == ckpt1["rewards"][new:]
    assert ckpt2["optimizer"]["state"][0]["step"].item() == updates1 + 1  # 130 frames: one batch of 128
    steps = [e.step for e in scalars(first.run_dir).Scalars("reward")]
    assert max(steps) > 2000 and sorted(steps) == steps


@pytest.mark.slow
def test_resume_refuses_changed_hyperparameters(pong_run):
    _, run_dir = pong_run
    line = one_line_error(run_script("--resume", str(run_dir / "checkpoint.pt"), "--lr", "0.5"))
    assert "--lr" in line and "checkpoint.pt" in line


@pytest.mark.slow
def test_a_solved_run_is_not_trained_on_unless_the_bar_is_raised(pong_run, tmp_path):
    _, run_dir = pong_run
    ckpt = t.load_checkpoint(str(run_dir / "checkpoint.pt"))
    ckpt["rewards"] = [19.0] * 99 + [17.0]  # a full window whose mean, 18.98, is above the bar of 18
    solved = tmp_path / "checkpoint.pt"
    torch.save(ckpt, solved)
    before = solved.read_bytes()
    line = one_line_error(run_script("--resume", str(solved)))
    assert line == (f"error: {tmp_path} is solved: its last 100 games average +18.98, above --stop-reward "
                    "18; to train it further, resume it with a higher --stop-reward"), line
    assert solved.read_bytes() == before and sorted(tmp_path.iterdir()) == [solved]  # nothing written
    proc = run_script("--resume", str(solved), "--stop-reward", "19", "--max-frames", "130")
    assert proc.returncode == 0 and "resumed" in proc.stdout, proc.stdout + proc.stderr
    assert t.load_checkpoint(str(solved))["frame"] == ckpt["frame"] + 130


@pytest.mark.slow
def test_the_printed_resume_line_runs_where_it_was_printed(pong_run, tmp_path):
    """The last line of a stopped run, run by a shell in the same folder (no venv activated there),
    continues the run: from its frame, on its checkpoint."""
    proc, run_dir = pong_run
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "checkpoint.pt").write_bytes((run_dir / "checkpoint.pt").read_bytes())
    command = proc.stdout.splitlines()[-1].split("; to go on: ")[1]
    command = command.replace(str(run_dir / "checkpoint.pt"), str(copy / "checkpoint.pt"))
    resumed = subprocess.run(f"{command} --max-frames 260", shell=True, capture_output=True, text=True,
                             timeout=300, env=ENV, cwd=ROOT)
    assert resumed.returncode == 0, command + resumed.stdout + resumed.stderr
    assert "resumed" in resumed.stdout
    assert t.load_checkpoint(str(copy / "checkpoint.pt"))["frame"] == 3000 + 260


def test_a_run_that_make_started_says_to_go_on_with_make(monkeypatch, tmp_path):
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    monkeypatch.setenv("MAKELEVEL", "1")
    assert t.resume_command(checkpoint, t.Config(cuda=True)) == f"make train ARGS='--resume {checkpoint}'"
    monkeypatch.delenv("MAKELEVEL")
    assert t.resume_command(checkpoint, t.Config(cuda=True)).endswith(f" --resume {checkpoint} --cuda")


VENV = Path(sys.executable).parent.parent  # the venv the tests run in, if make setup made it


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None or not (VENV / ".installed").is_file(),
                    reason="needs make and the tests run in a venv of make setup")
def test_the_make_resume_line_runs(pong_run, tmp_path, monkeypatch):
    _, run_dir = pong_run
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "checkpoint.pt").write_bytes((run_dir / "checkpoint.pt").read_bytes())
    monkeypatch.setenv("MAKELEVEL", "1")
    command = t.resume_command(copy / "checkpoint.pt", t.Config())
    args = shlex.split(command)
    assert args[:2] == ["make", "train"] and args[2].startswith("ARGS=")
    proc = subprocess.run([*args[:2], "-s", f"{args[2]} --max-frames 130", f"VENV={VENV}"],
                          capture_output=True, text=True, timeout=300, env=ENV, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert t.load_checkpoint(str(copy / "checkpoint.pt"))["frame"] == 3000 + 130


def started_two_updates_ago(runs: Path) -> tuple[subprocess.Popen, str]:
    """The script training in the background, read up to a status line at least two updates in."""
    proc = start_script("--envs", "2", "--runs-dir", str(runs))
    deadline = time.time() + 180
    seen, frames = "", 0
    while frames < 2 * 128 and time.time() < deadline:
        line = proc.stdout.readline()
        seen += line
        if line.startswith("[status] frames "):
            frames = int(line.split()[2].replace(",", ""))
    return proc, seen


@pytest.mark.slow
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_saves_a_checkpoint_and_closes_the_event_file(tmp_path, sig, code):
    proc, seen = started_two_updates_ago(tmp_path)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, seen + out + err
    (run_dir,) = tmp_path.iterdir()
    assert f"checkpoint: {run_dir / 'checkpoint.pt'}" in out
    assert (f"stopped ({sig.name} received) at frame {ckpt_frame(run_dir):,}; to go on: "
            f"{t.python_command()} train_a2c_pong.py --resume {run_dir / 'checkpoint.pt'}\n") in out
    ckpt = t.load_checkpoint(str(run_dir / "checkpoint.pt"))
    assert ckpt["frame"] > 0
    assert "loss_total" in scalars(run_dir).Tags()["scalars"]


@pytest.mark.slow
@pytest.mark.parametrize("sig,code,why", [(signal.SIGINT, 130, "SIGINT received"),
                                          (None, 141, "its output's reader ended")])
def test_the_end_of_the_output_s_reader_stops_the_run_with_its_checkpoint(tmp_path, sig, code, why):
    """`train_a2c_pong.py | tee log`: Ctrl-C ends tee too, so the signal's line meets a closed pipe;
    a pipe closed alone stops the run as SIGPIPE would end it, but with its checkpoint."""
    proc, _ = started_two_updates_ago(tmp_path)
    proc.stdout.close()
    if sig is not None:
        proc.send_signal(sig)
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == code and "Traceback" not in err, err
    (run_dir,) = tmp_path.iterdir()
    assert f"stopped ({why}) at frame {ckpt_frame(run_dir):,}; to go on: " in err  # where stdout went
    assert ckpt_frame(run_dir) >= 2 * 128 and "loss_total" in scalars(run_dir).Tags()["scalars"]


@pytest.mark.slow
def test_a_run_started_with_stdout_closed_trains_and_saves(tmp_path):
    """`>&-`: Python's sys.stdout is None, which print() skips, and so must the run."""
    proc = run_script("--envs", "2", "--max-frames", "10", "--runs-dir", str(tmp_path),
                      preexec_fn=lambda: os.close(1))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    (run_dir,) = tmp_path.iterdir()
    assert ckpt_frame(run_dir) == 10


STATUS_FRAMES = re.compile(rb"\[status\] frames ([\d,]+)")


def in_a_terminal(folder: Path, nohup: bool = False) -> tuple[subprocess.Popen, int]:
    """The script in a terminal of its own (a pty), its SIGHUP ignored under nohup; the terminal's end."""
    import pty

    master, slave = pty.openpty()
    keep = (lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)) if nohup else None
    proc = subprocess.Popen([sys.executable, str(ROOT / "train_a2c_pong.py"), "--envs", "2", "--runs-dir",
                             str(folder)], stdin=slave, stdout=slave, stderr=slave, env=ENV, cwd=ROOT,
                            start_new_session=True, preexec_fn=keep)
    os.close(slave)
    return proc, master


def frames_shown(master: int, at_least: int) -> tuple[int, bytes]:
    seen, frames, deadline = b"", 0, time.time() + 180
    while frames < at_least and time.time() < deadline:
        seen += os.read(master, 65536)
        frames = max([0, *(int(f.replace(b",", b"")) for f in STATUS_FRAMES.findall(seen))])
    return frames, seen


@pytest.mark.slow
def test_a_terminal_that_closes_stops_the_run_with_its_checkpoint_and_nohup_keeps_it_going(tmp_path):
    """SSH gone: SIGHUP, and the terminal takes no more lines (EIO); under nohup the run goes on."""
    proc, master = in_a_terminal(tmp_path / "plain")
    frames_shown(master, 2 * 128)
    os.close(master)
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(timeout=120) == 129
    (run_dir,) = (tmp_path / "plain").iterdir()
    assert ckpt_frame(run_dir) >= 2 * 128

    proc, master = in_a_terminal(tmp_path / "nohup", nohup=True)
    before, _ = frames_shown(master, 1)
    proc.send_signal(signal.SIGHUP)
    _, seen = frames_shown(master, before + 1)  # the next status line: a stop would have said so first
    assert b"SIGHUP" not in seen and b"checkpoint:" not in seen and proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 143
    os.close(master)


def test_ctrl_c_while_the_packages_load_is_one_line_and_status_130(tmp_path):
    """A terminal's Ctrl-C (SIGINT at its default: a shell's background job would ignore it), sent once
    torch's library is mapped, a second or more before main() runs."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "train_a2c_pong.py"), "--runs-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while "libtorch" not in Path(f"/proc/{proc.pid}/maps").read_text() and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (130, "", "interrupted\n")
    assert not list(tmp_path.iterdir())


def ckpt_frame(run_dir) -> int:
    return t.load_checkpoint(str(run_dir / "checkpoint.pt"))["frame"]


def test_a_run_folder_is_locked_while_held_and_unlocked_where_it_cannot_be(tmp_path, monkeypatch):
    held = t.lock_run(tmp_path)
    assert held is not None and t.training_now(tmp_path)  # another open of the folder finds it held
    with pytest.raises(t.UsageError, match="is training now in another process"):
        t.lock_run(tmp_path)
    os.close(held)
    assert not t.training_now(tmp_path)
    monkeypatch.setitem(sys.modules, "fcntl", None)  # as on Windows: the run goes on unlocked
    assert t.lock_run(tmp_path) is None and not t.training_now(tmp_path)


def test_probes_of_a_run_folder_do_not_take_it_from_a_run_that_starts(tmp_path):
    import fcntl
    probe = os.open(tmp_path, os.O_RDONLY)  # another process's training_now, caught mid-probe
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    assert not t.training_now(tmp_path)  # two probes at once do not read each other as a trainer
    threading.Timer(0.03, os.close, (probe,)).start()
    held = t.lock_run(tmp_path)  # the trainer waits out the probe instead of refusing its own run
    assert held is not None and t.training_now(tmp_path)
    os.close(held)


@pytest.mark.slow
def test_a_run_that_another_process_trains_is_neither_resumed_nor_offered(tmp_path, capsys, monkeypatch):
    proc = start_script("--envs", "2", "--runs-dir", str(tmp_path), "--save-every", "0.01")
    try:
        deadline, run_dir, seen = time.time() + 180, None, ""
        while not (run_dir and (run_dir / "checkpoint.pt").exists()) and time.time() < deadline:
            seen += (line := proc.stdout.readline())
            if line.startswith("run folder: "):
                run_dir = Path(line.removeprefix("run folder: ").strip())
        assert run_dir and (run_dir / "checkpoint.pt").exists() and proc.poll() is None, seen

        def never(*args, **kwargs):
            raise AssertionError("the envs were built before the second process was refused")

        monkeypatch.setattr(t, "make_vector_env", never)
        assert t.main(["--resume", str(run_dir)]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(f"error: {run_dir} is training now in another process"), line
        assert t.waiting_runs(str(tmp_path)) == []  # not offered to a new run as stopped
        monkeypatch.undo()
        t.train(catch_cfg(tmp_path, max_frames=8), env=CatchVectorEnv(8))  # a second run beside it
        notes = [x for x in capsys.readouterr().out.splitlines() if x.startswith("note: ")]
        assert notes == [f"note: {run_dir} is training now in another process: the two runs share this "
                         "machine's cores"], notes
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, out + err
    assert t.waiting_runs(str(tmp_path))[0] == (run_dir / "checkpoint.pt", ckpt_frame(run_dir))


def bad_files(tmp_path, good):
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:5000])
    noise = tmp_path / "noise.pt"
    noise.write_bytes(np.random.default_rng(0).bytes(20000))
    text = tmp_path / "notes.pt"
    text.write_text("effort 101\n")
    objects = tmp_path / "objects.pt"
    torch.save({"args": argparse.Namespace(lr=0.001)}, objects)
    other = tmp_path / "other_shape.pt"
    torch.save({"conv.0.weight": torch.zeros(32, 2, 8, 8), "policy.2.weight": torch.zeros(6, 512)}, other)
    return {"truncated": truncated, "noise": noise, "text": text, "objects": objects, "other": other,
            "missing": tmp_path / "missing.pt", "folder": tmp_path}


@pytest.mark.slow
@pytest.mark.parametrize("kind,says", [
    ("truncated", "damaged or cut short"), ("noise", "not a model or checkpoint file"),
    ("text", "not a model or checkpoint file"), ("objects", "holds Python objects"),
    ("other", "no pipeline settings"),
    ("missing", "no such file"),
    ("folder", "is a folder")])
@pytest.mark.parametrize("mode", ["--play", "--resume"])
def test_bad_files_exit_2_with_one_line_that_says_what_is_wrong(pong_run, tmp_path, kind, says, mode):
    _, run_dir = pong_run
    path = bad_files(tmp_path, run_dir / "checkpoint.pt")[kind]
    line = one_line_error(run_script(mode, str(path)))
    assert str(path) in line
    if not (kind == "other" and mode == "--resume"):  # --resume names the missing keys instead
        assert says in line, line
    assert "PytorchStreamReader" not in line and "If you are seeing" not in line  # words, not torch's


def test_a_model_asked_for_before_the_run_wrote_it_is_explained(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")  # a run folder whose first game has not ended
    assert t.main(["--play", str(tmp_path / "model_best.pt")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "no such file yet" in line and "when its first game ends" in line


def test_a_run_folder_given_to_play_names_the_model_file_in_it(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    assert t.main(["--play", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"error: {tmp_path}: is a run folder; its agent is {tmp_path / 'model_best.pt'}"


@pytest.mark.slow
def test_a_checkpoint_with_a_damaged_optimizer_state_is_refused(pong_run, tmp_path):
    _, run_dir = pong_run
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    ckpt["optimizer"] = {"state": {}, "param_groups": []}
    damaged = tmp_path / "checkpoint.pt"
    torch.save(ckpt, damaged)
    line = one_line_error(run_script("--resume", str(damaged), "--max-frames", "10"))
    assert "damaged" in line
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # nothing written beside it


@pytest.mark.slow
def test_a_checkpoint_of_another_network_shape_is_refused(tmp_path):
    catch = t.train(catch_cfg(tmp_path, max_frames=260), env=CatchVectorEnv(8))
    line = one_line_error(run_script("--resume", str(catch.run_dir / "checkpoint.pt"), "--max-frames", "10"))
    assert "does not fit" in line
    line = one_line_error(run_script("--play", str(catch.run_dir / "checkpoint.pt")))
    assert "does not fit" in line


@pytest.mark.slow
def test_non_finite_loss_stops_and_leaves_the_best_model_alone(tmp_path, monkeypatch):
    real = t.unpack_batch
    calls = {"n": 0}
    best_bytes = {}

    def poisoned(batch, net, gamma, steps, device="cpu"):
        calls["n"] += 1
        states, actions, targets = real(batch, net, gamma, steps, device)
        if calls["n"] == 30:
            run_dir = next(tmp_path.iterdir())
            best_bytes["before"] = (run_dir / "model_best.pt").read_bytes()
            targets = targets * float("nan")
        return states, actions, targets

    monkeypatch.setattr(t, "unpack_batch", poisoned)
    with pytest.raises(t.NonFiniteError):
        t.train(catch_cfg(tmp_path, max_frames=100_000), env=CatchVectorEnv(8))
    run_dir = next(tmp_path.iterdir())
    assert (run_dir / "model_best.pt").read_bytes() == best_bytes["before"]
    state = torch.load(run_dir / "model_best.pt", weights_only=True)["model"]
    assert all(torch.isfinite(v).all() for v in state.values())


def test_atomic_save_leaves_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "model_best.pt"
    t.atomic_save({"w": torch.ones(3)}, target)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        t.atomic_save({"w": Unpicklable()}, target)
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["model_best.pt"]


def test_atomic_files_take_the_umask_without_setting_it(tmp_path, monkeypatch):
    """Setting the umask to read it races TensorBoard's writer thread: the mode comes from the
    kernel (0o666 less the umask), and os.umask is never called."""
    mask = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("atomic_write set the process umask"))
        t.write_json({"a": 1}, tmp_path / "config.json")
        t.atomic_save({"w": torch.ones(1)}, tmp_path / "model.pt")
    finally:
        monkeypatch.undo()
        os.umask(mask)
    for name in ("config.json", "model.pt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.pt"]


@contextlib.contextmanager
def file_size_limit(nbytes: int):
    before = limit_file_size(nbytes)
    try:
        yield
    finally:
        limit_file_size(before)


def fill_disk(monkeypatch, failing) -> list[int]:
    """The writes of .pt files numbered in `failing` (from 1) fail in the kernel, whoever writes the
    bytes (torch.save's own writer raised a RuntimeError there); config.json and events go on."""
    real, calls = t.atomic_write, []

    def write(path, *args):
        if path.suffix != ".pt":
            return real(path, *args)
        calls.append(len(calls) + 1)
        with file_size_limit(2**20) if calls[-1] in failing else contextlib.nullcontext():
            return real(path, *args)

    monkeypatch.setattr(t, "atomic_write", write)
    return calls


@pytest.mark.slow
def test_a_full_disk_mid_run_costs_a_warning_not_the_run(tmp_path, monkeypatch, capsys):
    calls = fill_disk(monkeypatch, failing=range(2, 8))
    cfg = catch_cfg(tmp_path, max_frames=1500, save_every=1e-4)  # a checkpoint after every update
    result = t.train(cfg, env=CatchVectorEnv(8))
    assert result.frames == 1500 and len(calls) > 8
    assert "warning: could not write" in capsys.readouterr().err
    ckpt = t.load_checkpoint(str(result.run_dir / "checkpoint.pt"))
    assert ckpt["frame"] == 1500
    assert not [p for p in result.run_dir.iterdir() if p.suffix == ".tmp"]


@pytest.mark.slow
def test_a_full_disk_under_the_log_costs_its_lines_not_the_run(tmp_path, monkeypatch):
    """`> train.log 2>&1` on a disk that fills: print raised, and the run died without its checkpoint."""
    limit = 2**30  # past it the kernel refuses a write; no file of the test's reaches it
    logs = [open(tmp_path / name, "w") for name in ("out.log", "err.log")]  # noqa: SIM115
    monkeypatch.setattr(sys, "stdout", logs[0])
    monkeypatch.setattr(sys, "stderr", logs[1])
    real_track, full = t.Run.track, []

    def track(run, metrics):  # the disk fills at the first update: the logs' every later line is refused
        if not full:
            full.append(True)
            for log in logs:
                log.flush()
                log.seek(limit)
        return real_track(run, metrics)

    monkeypatch.setattr(t.Run, "track", track)
    fill_disk(monkeypatch, failing=range(1, 6))  # saves that fail: their warnings go to stderr
    with file_size_limit(limit):
        result = t.train(catch_cfg(tmp_path / "runs", max_frames=1500, save_every=1e-4),
                         env=CatchVectorEnv(8))
    monkeypatch.undo()
    assert result.frames == 1500
    assert t.load_checkpoint(str(result.run_dir / "checkpoint.pt"))["frame"] == 1500
    assert f"run folder: {result.run_dir}" in (tmp_path / "out.log").read_text()  # written before it filled


@pytest.mark.slow
def test_a_full_disk_at_the_end_exits_1_with_one_line(tmp_path, monkeypatch, capsys):
    fill_disk(monkeypatch, failing=range(1, 1000))
    code = t.main(["--envs", "2", "--max-frames", "300", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: could not write"), err
    (run_dir,) = tmp_path.iterdir()
    assert not [p for p in run_dir.iterdir() if p.suffix in (".pt", ".tmp")]


@pytest.mark.slow
def test_a_disk_that_refuses_the_events_mid_run_costs_the_metrics_not_the_run(tmp_path):
    """tensorboardX's writing thread dies at the write refused, and each add after it waited for good."""
    proc = run_script("--envs", "8", "--max-frames", "8000", "--runs-dir", str(tmp_path), timeout=150,
                      preexec_fn=lambda: limit_file_size(2048))  # config.json fits; the events pass it
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "Exception" not in proc.stderr, err
    (lost,) = [line for line in err if "TensorBoard's events" in line]
    assert lost.startswith("warning: could not write") and "training goes on" in lost
    assert "[status] frames 8,000 " in proc.stdout  # the run went on to its end
    assert err[-1].startswith("error: could not write") and err[-1].endswith("written before are intact")
    (run_dir,) = tmp_path.iterdir()
    assert points(run_dir)["loss_total"]  # what went in before reads back


@pytest.mark.slow
def test_main_exits_3_on_a_non_finite_loss(tmp_path, monkeypatch, capsys):
    real = t.unpack_batch

    def poisoned(batch, net, gamma, steps, device="cpu"):
        states, actions, targets = real(batch, net, gamma, steps, device)
        return states, actions, targets * float("inf")

    monkeypatch.setattr(t, "unpack_batch", poisoned)
    code = t.main(["--envs", "2", "--max-frames", "1000", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(err) == 1 and "not finite" in err[0], err


@pytest.mark.slow
def test_a_resumed_run_goes_on_with_new_random_streams(tmp_path, monkeypatch):
    """Segment k of a run seeds its envs with seed + k * envs (no earlier segment's games), and
    numpy's and torch's streams continue from the checkpoint instead of restarting at --seed."""
    seeds, first_draw = [], []
    real_reset = CatchVectorEnv.reset

    def reset(self, *, seed=None):
        seeds.append(seed)
        first_draw.append((torch.get_rng_state().clone(), np.random.get_state()[1].copy()))
        return real_reset(self, seed=seed)

    monkeypatch.setattr(CatchVectorEnv, "reset", reset)
    cfg = catch_cfg(tmp_path, max_frames=600)
    first = t.train(cfg, env=CatchVectorEnv(8))
    ckpt1 = t.load_checkpoint(str(first.run_dir / "checkpoint.pt"))
    t.train(cfg, env=CatchVectorEnv(8), resume=ckpt1, run_dir=first.run_dir)
    ckpt2 = t.load_checkpoint(str(first.run_dir / "checkpoint.pt"))
    t.train(cfg, env=CatchVectorEnv(8), resume=ckpt2, run_dir=first.run_dir)
    assert seeds == [cfg.seed, cfg.seed + 8, cfg.seed + 16]
    assert ckpt1["segment"] == 0 and ckpt2["segment"] == 1
    for (torch_state, numpy_keys), ckpt in zip(first_draw[1:], (ckpt1, ckpt2), strict=True):
        assert torch.equal(torch_state, ckpt["rng"]["torch"])  # where the stopped run left off
        assert np.array_equal(numpy_keys, ckpt["rng"]["numpy"]["keys"].numpy().astype(np.uint32))
    assert not torch.equal(first_draw[1][0], first_draw[0][0])  # not the fresh run's stream


BEFORE_SLIMMING = "699a80f"  # the commit the bf16 seed runs of docs/seeds.csv started on


@pytest.mark.slow
def test_a_run_of_the_script_before_its_slimming_resumes_and_plays(tmp_path):
    """Runs span code changes: a run folder that the script of BEFORE_SLIMMING wrote (taken from
    git) resumes on today's, whose frame, games and weights go on from it, and its models play."""
    old = subprocess.run(["git", "show", f"{BEFORE_SLIMMING}:train_a2c_pong.py"], cwd=ROOT,
                         capture_output=True, text=True)
    if old.returncode != 0:
        pytest.skip(f"this clone lacks commit {BEFORE_SLIMMING}")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "train_a2c_pong.py").write_text(old.stdout)
    write = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
             "import train_a2c_pong as old\nfrom catch_env import CatchVectorEnv\n"
             "old.train(old.Config(envs=8, runs_dir=sys.argv[3], stop_reward=100.0, max_frames=300), "
             "env=CatchVectorEnv(8))\n")
    proc = subprocess.run([sys.executable, "-c", write, str(tmp_path / "old"), str(ROOT / "tools"),
                           str(tmp_path / "runs")], capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "model_last.pt").is_file()  # what the old script wrote
    path = str(run_dir / "checkpoint.pt")
    ckpt = t.load_checkpoint(path)
    cfg = t.resume_config(catch_cfg(tmp_path, max_frames=200), {"max_frames"}, ckpt, path)
    result = t.train(cfg, env=CatchVectorEnv(8), resume=ckpt, run_dir=run_dir)
    assert result.frames == 500 and result.episodes > ckpt["episodes"]
    after = t.load_checkpoint(path)
    assert after["segment"] == 1 and [s["frame"] for s in after["segments"]] == [0, 300]
    assert not all(torch.equal(after["model"][k], v) for k, v in ckpt["model"].items())  # it trained on
    for name in ("model_best.pt", "model_last.pt", "checkpoint.pt"):
        net, settings = t.load_model(run_dir / name)
        assert settings == t.pipeline("vector") and isinstance(net, t.AtariA2C)
