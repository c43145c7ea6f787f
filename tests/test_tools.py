"""The release tools in tools/: the training figure and its CSV from a real (short) run's event
files, the shipped model file, and the scalar dump that proves a change left training alone."""

import json
import os
import subprocess
import sys

import pytest
import torch
from catch_env import CatchVectorEnv
from conftest import ENV, ROOT, model_data, scalars
from PIL import Image

import train_a2c_pong as t

PLOT = ROOT / "tools" / "plot_reward.py"
FRAMES_BENCH = ROOT / "tools" / "bench_frames_to_solve.py"


def plot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PLOT), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_plot_reads_the_run_and_writes_a_png(tmp_path):
    run = t.train(t.Config(envs=8, runs_dir=str(tmp_path / "runs"), max_frames=1500, stop_reward=100),
                  env=CatchVectorEnv(8))
    out = tmp_path / "reward_100.png"
    proc = plot(str(run.run_dir), str(out), "--stop-reward", "0.5")
    assert proc.returncode == 0, proc.stderr
    points = int(proc.stdout.split(": ")[1].split(" points")[0])
    assert points == run.episodes  # one reward_100 point per finished game
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (1100, 400)


def test_a_folder_without_rewards_is_one_line(tmp_path):
    proc = plot(str(tmp_path), str(tmp_path / "x.png"))
    assert proc.returncode != 0 and proc.stderr.strip().splitlines() == [
        f"error: {tmp_path}: no reward_100 scalar (no finished game, or not a run folder)"]
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_the_csv_spans_a_resumed_run_and_leaves_out_the_pause(tmp_path):
    import csv
    import time

    cfg = t.Config(envs=8, runs_dir=str(tmp_path / "runs"), max_frames=1500, stop_reward=100)
    first = t.train(cfg, env=CatchVectorEnv(8))
    time.sleep(3)  # the run waits, stopped, before it is resumed
    ckpt = t.load_checkpoint(str(first.run_dir / "checkpoint.pt"))
    second = t.train(cfg, env=CatchVectorEnv(8), resume=ckpt, run_dir=first.run_dir)
    assert len(list(first.run_dir.glob("events.out.tfevents.*"))) == 2
    out = tmp_path / "record.csv"
    proc = plot(str(first.run_dir), str(tmp_path / "r.png"), "--csv", str(out))
    assert proc.returncode == 0, proc.stderr
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["games"]) for r in rows] == list(range(1, second.episodes + 1))
    frames = [int(r["frames"]) for r in rows]
    assert frames == sorted(frames) and frames[-1] <= 3000 and max(frames) > 1500
    wall = [float(r["wall_s"]) for r in rows]
    assert wall == sorted(wall)
    assert wall[-1] < first.seconds + second.seconds + 2  # the 3 s pause is not in it
    assert float(rows[-1]["reward_100"]) == round(second.mean_reward, 3)
    config = json.loads((first.run_dir / "config.json").read_text())
    config["segments"][1]["startup_s"] += 100  # as if the resumed segment took 100 s more to start
    (first.run_dir / "config.json").write_text(json.dumps(config))
    assert plot(str(first.run_dir), str(tmp_path / "r.png"), "--csv", str(out)).returncode == 0
    with out.open() as f:
        later = [float(r["wall_s"]) for r in csv.DictReader(f)]
    resumed = [i for i, r in enumerate(rows) if int(r["frames"]) > 1500]
    assert [round(later[i] - wall[i], 1) for i in resumed] == [100.0] * len(resumed)
    assert later[:resumed[0]] == wall[:resumed[0]]  # the first segment's points as they were


@pytest.mark.slow
def test_a_segment_killed_after_its_checkpoint_counts_only_up_to_where_the_next_resumed(tmp_path):
    """A segment killed after its last checkpoint wrote games that the next segment trains again:
    the record counts them once, and the killed segment's lost time not at all."""
    import csv
    import shutil

    cfg = t.Config(envs=8, runs_dir=str(tmp_path / "runs"), max_frames=1500, stop_reward=100)
    first = t.train(cfg, env=CatchVectorEnv(8))
    ckpt = first.run_dir / "checkpoint.pt"
    shutil.copy(ckpt, tmp_path / "at_1500.pt")
    lost = t.train(cfg, env=CatchVectorEnv(8), resume=t.load_checkpoint(str(ckpt)), run_dir=first.run_dir)
    shutil.copy(tmp_path / "at_1500.pt", ckpt)  # as if killed before it wrote a checkpoint past 1500
    last = t.train(cfg, env=CatchVectorEnv(8), resume=t.load_checkpoint(str(ckpt)), run_dir=first.run_dir)
    assert len(list(first.run_dir.glob("events.out.tfevents.*"))) == 3 and lost.frames == last.frames == 3000
    out = tmp_path / "record.csv"
    proc = plot(str(first.run_dir), str(tmp_path / "r.png"), "--csv", str(out))
    assert proc.returncode == 0, proc.stderr
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["games"]) for r in rows] == list(range(1, last.episodes + 1))  # the run's own count
    frames = [int(r["frames"]) for r in rows]
    assert frames == sorted(set(frames)) and frames[-1] <= 3000
    assert float(rows[-1]["wall_s"]) < first.seconds + last.seconds + 2  # the lost segment's time left out
    assert float(rows[-1]["reward_100"]) == round(last.mean_reward, 3)


def test_a_shipped_model_is_float16_with_its_provenance_and_plays_as_float32(tmp_path):
    from ship_model import ship

    source = tmp_path / "model_best.pt"
    weights = t.AtariA2C((4, 84, 84), 6).state_dict()
    torch.save(model_data(t.Config(runs_dir="/home/someone/runs"), weights, frame=1234), source)
    out = tmp_path / "shipped.pt"
    ship(source, out, commit="0" * 40)
    saved = torch.load(out, weights_only=True)
    assert {v.dtype for v in saved["model"].values()} == {torch.float16}
    assert saved["frame"] == 1234 and saved["commit"] == "0" * 40
    assert "runs_dir" not in saved["config"] and saved["config"]["lr"] == t.Config().lr  # no machine path
    assert saved["pipeline"] == t.pipeline("vector")
    assert 6e6 < out.stat().st_size < 7e6  # about half the float32 file
    net, settings = t.load_model(out)
    assert settings == t.pipeline("vector")
    for name, v in net.state_dict().items():
        assert v.dtype == torch.float32 and torch.equal(v, weights[name].half().float())


@pytest.mark.slow
def test_the_scalar_dump_is_every_scalar_but_fps(tmp_path):
    run = t.train(t.Config(envs=8, runs_dir=str(tmp_path), max_frames=1500, stop_reward=100),
                  env=CatchVectorEnv(8))
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "scalars.py"), str(run.run_dir)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    dumped = json.loads(proc.stdout)
    acc = scalars(run.run_dir)
    assert set(dumped) == set(acc.Tags()["scalars"]) - {"fps"} and "loss_total" in dumped
    assert dumped["reward"] == [[e.step, e.value] for e in acc.Scalars("reward")]


@pytest.mark.slow
def test_the_frames_to_learn_bench_runs_both_pipelines_on_catch():
    proc = subprocess.run([sys.executable, str(FRAMES_BENCH), "--seeds", "1", "--max-frames", "2000"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr  # the ptan pipeline builds its envs through make_pong_env
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("catch, bar ") and "at most 2,000 frames" in lines[0]
    assert lines[2].split()[:3] == ["1", "not", "not"]  # 2,000 frames: neither passes the bar
    assert lines[-1].startswith("median frames to bar, default/ptan: ")


@pytest.mark.slow
def test_the_plot_without_matplotlib_is_one_line(tmp_path):
    run = t.train(t.Config(envs=8, runs_dir=str(tmp_path / "runs"), max_frames=1500, stop_reward=100),
                  env=CatchVectorEnv(8))
    blocker = tmp_path / "no_matplotlib" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker.parent)}
    proc = subprocess.run([sys.executable, str(PLOT), str(run.run_dir), str(tmp_path / "r.png")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode != 0 and proc.stderr.strip().splitlines() == [
        "error: the PNG needs matplotlib, which is not installed (pip install matplotlib, or make dev)"]


def test_the_scalar_dump_of_a_missing_folder_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "scalars.py"), str(tmp_path / "nothing")],
                          capture_output=True, text=True, timeout=60)
    said = [f"error: {tmp_path / 'nothing'}: not a folder"]
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == said


def test_the_bench_times_acting_and_the_update_inside_a_real_training_run(tmp_path):
    import bench_throughput

    cfg = t.Config(envs=8, runs_dir=str(tmp_path), max_frames=1300, stop_reward=100.0)
    with bench_throughput.Phases().timing() as phases:
        result = t.train(cfg, env=CatchVectorEnv(8))
    assert 0 < phases.inference and 0 < phases.update and phases.inference + phases.update < result.seconds
    assert t.a2c_update.__name__ == "a2c_update"  # the script's own functions are back


def test_the_benchs_host_frames_row_trains_with_the_frames_kept_on_the_host(tmp_path, monkeypatch):
    """The row that keeps the path before frames crossed to the device once (issue 42's baseline)."""
    import bench_throughput

    made, real = [], t.net_and_source

    def spy(*args, **kwargs):
        net, source, seconds = real(*args, **kwargs)
        made.append((type(source).__name__, source.device))
        return net, source, seconds

    monkeypatch.setattr(t, "net_and_source", spy)
    for variant in ("vector", "host-frames"):
        fps, _ = bench_throughput.run(variant, 300, 2, False, str(tmp_path))
        assert fps > 0
    assert made == [("VectorExperienceSource", torch.device("cpu")), ("HostFrames", None)]
    assert t.VectorExperienceSource is not bench_throughput.HostFrames  # the script's own source is back


def test_a_bench_row_of_seconds_trains_that_long_from_its_start_not_for_its_frames(tmp_path):
    """Issue 42's rows of a minute: the env start counts, and the run stops by time, not by frames."""
    import bench_throughput

    fps, phases = bench_throughput.run("vector", 50, 2, False, str(tmp_path), seconds=4.0)
    assert 4.0 <= phases.total < 8.0 and phases.frames > 50
    assert fps == pytest.approx(phases.frames / phases.total)
    assert t.Run.should_stop.__name__ == "should_stop"  # the script's own method is back


def test_the_benchs_row_of_several_rounds_is_its_median_round_or_why_it_did_not_run():
    import bench_throughput

    slow, middle, fast = (100.0, "a"), (200.0, "b"), (300.0, "c")
    assert bench_throughput.median_round([fast, slow, middle]) == middle
    assert bench_throughput.median_round([slow, fast]) == fast  # the upper of two middles
    assert bench_throughput.median_round([slow, "--bf16: no native bfloat16"]) == "--bf16: no native bfloat16"


def test_the_bench_times_the_network_as_train_places_it(monkeypatch):
    """The bench's network row (acting, last states, update) runs the net as train() places it,
    and a variant this CPU cannot run is its reason, not a figure."""
    import bench_throughput

    assert bench_throughput.network_ms("vector", torch.device("cpu"), envs=8, blocks=1) > 0
    monkeypatch.setattr(t, "cpu_has_bf16", lambda: False)
    assert bench_throughput.network_ms("bf16", torch.device("cpu"), envs=8, blocks=1).startswith("--bf16:")


def test_the_benchs_levers_say_the_env_by_threads_and_what_an_update_costs_the_host(capsys):
    """Issue 42's levers (--levers), here on the CPU: the env alone on a quarter, a half and all of
    this process's cores, one update's profile, and CUDA graphs said to need a GPU."""
    import bench_throughput

    bench_throughput.levers(torch.device("cpu"), envs=2)
    env, update, graphs = capsys.readouterr().out.splitlines()
    counts = sorted({t.cores() // 4, t.cores() // 2, t.cores()} - {0})
    rates = env.removeprefix("the vector env alone by threads (2 envs, frames/s): ").split(", ")
    assert [int(r.split(": ")[0]) for r in rates] == counts
    assert all(float(r.split(": ")[1].replace(",", "")) > 0 for r in rates)
    calls = update.removeprefix("one update on cpu, profiled: ").split(" aten calls")[0]
    assert int(calls) > 50 and "conv" in update.split("most host time: ")[1]
    assert graphs == "CUDA graphs: on a GPU only"


def gpu_train(*args: str, **env: str) -> subprocess.CompletedProcess:
    """tools/gpu_train.sh as a device call runs it, with this Python for the box's."""
    return subprocess.run(["bash", str(ROOT / "tools" / "gpu_train.sh"), *args], capture_output=True,
                          text=True, timeout=300, env={**ENV, "PYTHON": sys.executable, **env})


@pytest.mark.slow
def test_the_gpu_bench_trains_each_group_for_its_seconds_in_one_call_and_holds_a_group_to_its_cores(tmp_path):
    """tools/gpu_bench.sh as a device call runs it (here on the CPU): every group's rows and env alone
    in one log; a held group sees only its cores; a group the box has too few cores for is said."""
    proc = subprocess.run(["bash", str(ROOT / "tools" / "gpu_bench.sh")], capture_output=True, text=True,
                          timeout=300, env={**ENV, "PYTHON": sys.executable, "CUDA": "", "ROW_S": "3",
                                            "HELD": "1 4096", "BENCH_ARGS": "--envs 2 --rows-only",
                                            "OUT": str(tmp_path)})
    log = (tmp_path / "gpu_bench.log").read_text()
    assert proc.returncode == 0, log
    groups = log.split("\n== ")[1:]
    assert [g.splitlines()[0] for g in groups if "exit 0" not in g.splitlines()[0]] == [
        "all cores, cpu", "all cores, the CPU alone", "1 cores (taskset -c 0-0), cpu",
        f"4096 cores: skipped, this box has {len(os.sched_getaffinity(0))}"]
    assert f"machine: 1 of {os.cpu_count()} cores" in groups[4]
    assert "the vector env alone by threads" in groups[0] and "CUDA graphs: " in groups[0]  # the levers
    for group, rows in ((0, ("vector", "async")), (2, ("vector", "async", "bf16-async")), (4, ("vector",))):
        assert "3 s per variant" in groups[group] and "limits: the vector env alone" in groups[group]
        assert [w[0] for w in map(str.split, groups[group].splitlines()) if w and w[0] in rows] == list(rows)


@pytest.mark.slow
def test_a_gpu_run_goes_on_across_calls_through_files_the_device_tool_returns(tmp_path):
    """Each call's run folder comes back in files of at most 16 MiB (the checkpoint in parts),
    joins here byte for byte, and the next call resumes it where it stopped (here on the CPU)."""
    box, here = tmp_path / "box", tmp_path / "here"
    proc = gpu_train("start", GPU_RUN=str(box), OUT=str(tmp_path / "out1"), ARGS="--envs 2 --max-frames 300",
                     LEVERS="--levers --variants --envs 2", SEGMENT_S="200")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = proc.stdout.split("gpu_train: the levers: exit status 0, ")[1]  # first, and their time taken
    assert "the vector env alone by threads (2 envs" in proc.stdout.split("gpu_train: the levers")[0]
    assert f"(for {200 - int(said.split(' s')[0])} s)" in said
    (run,) = box.iterdir()
    back = tmp_path / "out1" / run.name
    parts = sorted(back.glob("checkpoint.pt.part-*"))
    assert len(parts) >= 2 and all(p.stat().st_size <= 16 * 2**20 for p in parts)
    assert {p.name for p in back.iterdir()} - {p.name for p in parts} == {
        "config.json", *(p.name for p in run.glob("events.out.tfevents.*"))}
    assert "exit status 0" in (tmp_path / "out1" / "gpu_train.log").read_text()
    proc = gpu_train("join", str(tmp_path / "out1"), GPU_RUN=str(here))
    assert proc.returncode == 0 and "frame 300," in proc.stdout, proc.stdout + proc.stderr
    assert (here / run.name / "checkpoint.pt").read_bytes() == (run / "checkpoint.pt").read_bytes()
    proc = gpu_train("resume", GPU_RUN=str(here), OUT=str(tmp_path / "out2"), ARGS="--max-frames 300")
    assert proc.returncode == 0 and "resumed" in proc.stdout, proc.stdout + proc.stderr
    proc = gpu_train("join", str(tmp_path / "out2"), GPU_RUN=str(here))
    assert proc.returncode == 0 and "frame 600," in proc.stdout, proc.stdout + proc.stderr
    assert len(list((here / run.name).glob("events.out.tfevents.*"))) == 2  # one per segment
    assert gpu_train("start", GPU_RUN=str(here)).returncode == 2  # a second run would not be one run


@pytest.mark.slow
def test_the_scalar_check_tells_a_tree_that_trains_alike_from_one_that_does_not(tmp_path):
    """tools/same_scalars.sh, which the slimming's "same numbers" rest on: the same commit twice is
    the same; a tree with another discount factor differs, exit status 1 (the default mode only and
    4 envs, to keep the suite short: --bf16 is the same command with one more flag)."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True, timeout=120)
    script = repo / "train_a2c_pong.py"
    script.write_text(script.read_text().replace("GAMMA = 0.99", "GAMMA = 0.98", 1))
    env = {**ENV, "FRAMES": "300", "PYTHON": sys.executable, "MODES": "default", "ARGS": "--envs 4"}

    def check(before: str, after: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "tools/same_scalars.sh", before, after], capture_output=True,
                              text=True, timeout=600, env=env, cwd=repo)

    same, differ = check("HEAD", "HEAD"), check("HEAD", ".")
    assert same.returncode == 0, same.stdout + same.stderr
    assert [line.split()[:2] for line in same.stdout.splitlines()] == [["same", "default:"]]
    assert differ.returncode == 1, differ.stdout + differ.stderr
    assert [line.split()[:2] for line in differ.stdout.splitlines()] == [["differ", "default:"]]
    assert not list((repo / ".git" / "worktrees").glob("*"))  # its worktrees are gone
