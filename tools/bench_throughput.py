#!/usr/bin/env python3
"""Throughput of the program's variants, side by side in one process (a benchmark, not a test).

    python tools/bench_throughput.py [--frames N | --seconds S] [--envs 50] [--cuda] [--rounds 1]
                                     [--variants vector ...] [--levers]

Rows: vector (the default: one backward pass, grad statistics every 10th update), two-pass (the
notebook's update: two backward passes every update, --grad-stats-every 1), bf16 (--bf16; refused
where the hardware has no native bfloat16), compile (--compile), bf16-compile (both), async
(--async-envs), bf16-async (both), ptan (the notebook's experience pipeline), host-frames (the
default before each frame crossed to the device once: acting, states and last states each copied
from the host), and four splits of the cores between the vector env's threads and torch's
(env-spare1: the envs on all cores but one, which the training loop then has to itself).
Each trains for the same number of frames (or, with --seconds, as long from the start of train(),
its env start and compile included) with the notebook's hyperparameters; the report gives
frames per second (--compile's compile time left out, and said), the share of wall time in env
stepping (with experience bookkeeping, and the envs' first reset), inference and the update
(unpack_batch included), the frames per second of env stepping alone (frames / env time), the
time of one update (one pass, two passes, bf16), of one forward with both heads and with the one
head that acting (the policy) or the last states (the value) use, and the ratios.

The limits: the vector env alone (random actions) and the network alone (per 128 frames: 128/50
acting forwards of 50 states with sampling, the last-state forward of 128 and one update, grad
statistics every 10th) are timed for vector and for each of compile, bf16 and bf16-compile that
trained; their serial sum is what that variant could reach, printed beside what it trained at
(--rows-only: the env alone, and neither the network's limits nor its timings).
--levers first measures issue 42's levers, one line each: the env alone by threads, one update
profiled, and on a GPU CUDA graphs against eager (docs/reference.md, On a GPU).
Machines here are shared and noisy: compare the ratios, measured in one run, rather than absolute
numbers across runs; --rounds N trains each variant N times, the order reversed every other round,
and a row gives each round's frames per second and the median round's shares.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import io
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import train_a2c_pong as t  # noqa: E402

VARIANTS = {  # row name: flags
    "vector": {},
    "two-pass": {"grad_stats_every": 1},
    "bf16": {"bf16": True},
    "compile": {"compile": True},
    "bf16-compile": {"bf16": True, "compile": True},
    "async": {"async_envs": True},
    "bf16-async": {"bf16": True, "async_envs": True},
    "host-frames": {},
    "ptan": {"backend": "ptan"},
    "env1+torch1": {"env_threads": 1, "torch_threads": 1},
    "env1": {"env_threads": 1},
    "torch1": {"torch_threads": 1},
    "env-spare1": {"env_threads": max(1, t.cores() - 1)},
}


class HostFrames(t.VectorExperienceSource):
    """The experience source with its frames kept on the host, as before they crossed to the device
    once: the sampler and unpack_batch then each copy them there."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "device": None})


SOURCES = {"host-frames": HostFrames}  # row name: the experience source it trains with


class Phases:
    """Wall seconds of a training run's acting and update (unpack_batch and a2c_update), timed by
    wrapping the script's functions while it runs; env stepping is what they and --compile leave."""

    def __init__(self) -> None:
        self.inference = self.update = self.total = self.compile = 0.0
        self.frames = 0

    def timed(self, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self, name, getattr(self, name) + time.perf_counter() - start)

        return wrapper

    @contextlib.contextmanager
    def timing(self) -> Iterator[Phases]:
        import ptan

        sampler, agent = t.policy_sampler, ptan.agent.PolicyAgent.__call__
        patched = {(t, "unpack_batch"): self.timed(t.unpack_batch, "update"),
                   (t, "a2c_update"): self.timed(t.a2c_update, "update"),
                   (t, "policy_sampler"): lambda *a, **k: self.timed(sampler(*a, **k), "inference"),
                   (ptan.agent.PolicyAgent, "__call__"): self.timed(agent, "inference")}
        saved = {key: getattr(*key) for key in patched}
        for (owner, name), fn in patched.items():
            setattr(owner, name, fn)
        try:
            yield self
        finally:
            for (owner, name), fn in saved.items():
                setattr(owner, name, fn)


def stops_at(deadline: float) -> Callable[[t.Run], bool]:
    """Run.should_stop that ends the run at a moment of perf_counter, as --max-frames would end it."""
    should_stop = t.Run.should_stop

    def stop(run: t.Run) -> bool:
        if time.perf_counter() > deadline and run.cfg.max_frames is None:
            run.cfg = dataclasses.replace(run.cfg, max_frames=run.frame - run.first_frame)
        return should_stop(run)

    return stop


def run(variant: str, frames: int, envs: int, cuda: bool, runs_dir: str,
        seconds: float | None = None) -> tuple[float, Phases] | str:
    """(frames per second, phases), or why the variant does not run here; with seconds, it trains for
    that long from the start of train(), not for `frames`, and its time includes the start."""
    cfg = t.Config(**VARIANTS[variant], envs=envs, max_frames=None if seconds else frames, cuda=cuda,
                   runs_dir=runs_dir, name=f"bench-{variant}", save_every=1e9)
    print(f"training {f'{seconds:g} s' if seconds else f'{frames} frames'}: {variant} ...", flush=True)
    threads = torch.get_num_threads()
    source = SOURCES.get(variant, t.VectorExperienceSource)
    start = time.perf_counter()
    by_time = seconds and mock.patch.object(t.Run, "should_stop", stops_at(start + seconds))
    try:
        with (contextlib.redirect_stdout(io.StringIO()),  # not its progress lines
              Phases().timing() as phases, mock.patch.object(t, "VectorExperienceSource", source),
              by_time or contextlib.nullcontext()):
            result = t.train(cfg)
    except t.UsageError as e:
        return str(e).split(";")[0]
    finally:
        torch.set_num_threads(threads)  # --torch-threads sets it for the whole process
    phases.total = time.perf_counter() - start if seconds else result.seconds  # with its start, or without
    phases.compile, phases.frames = result.compile_seconds, result.frames
    return result.frames / (phases.total - result.compile_seconds), phases


def env_fps(envs: int, steps: int = 200, threads: int = 0) -> float:
    """Frames per second of the vector env alone, random actions, after its first reset."""
    env = t.make_vector_env(envs, threads)
    env.reset(seed=1)
    actions = torch.randint(0, env.single_action_space.n, (steps, envs)).numpy()
    start = time.perf_counter()
    for a in actions:
        env.step(a)
    seconds = time.perf_counter() - start
    env.close()
    return steps * envs / seconds


def network_ms(variant: str, device: torch.device, envs: int, blocks: int = 10) -> float | str:
    """Mean wall time of the network's work per 128 frames (acting, last states, update), as
    train() places and compiles it, or why the variant does not run here."""
    cfg = t.Config(**VARIANTS[variant], envs=envs)
    try:
        if cfg.bf16:
            t.check_bf16(device)
        with contextlib.redirect_stdout(io.StringIO()):  # compile_net's line
            net, acting, _ = t.placed(t.AtariA2C((4, 84, 84), 6), cfg, device)
    except t.UsageError as e:
        return str(e).split(";")[0]
    act = t.policy_sampler(acting, device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    obs = torch.randint(0, 256, (envs, 4, 84, 84), dtype=torch.uint8).numpy()
    states = torch.randint(0, 256, (cfg.batch_size, 4, 84, 84), dtype=torch.uint8, device=device)
    actions = torch.randint(0, 6, (cfg.batch_size,), device=device)
    acting_s, update_s = [], []
    for k in range(blocks + 2):  # 2 warm-up blocks
        start = time.perf_counter()
        act(obs)
        middle = time.perf_counter()
        with torch.no_grad():
            _, last = net(states, policy=False)
        targets = last[:, 0] * cfg.gamma ** cfg.reward_steps
        t.a2c_update(net, optimizer, states, actions, targets, cfg, k % cfg.grad_stats_every == 0)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if k >= 2:
            acting_s.append(middle - start)
            update_s.append(time.perf_counter() - middle)
    return 1000 * (sum(acting_s) * cfg.batch_size / envs + sum(update_s)) / blocks


def update_setup(device: torch.device, placed: bool = True, **flags) -> tuple[Any, ...]:
    """The update's parts on the device: config, net (placed as the program places it: channels-last
    conv weights on the CPU; placed=False: the default layout), Adam, a batch of 128 random frames."""
    cfg = t.Config(**flags)
    net = t.AtariA2C((4, 84, 84), 6)
    net = t.place(net, device, cfg.bf16) if placed else net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    states = torch.randint(0, 256, (128, 4, 84, 84), dtype=torch.uint8, device=device)
    actions = torch.randint(0, 6, (128,), device=device)
    targets = torch.randn(128, device=device)
    return cfg, net, optimizer, states, actions, targets


def update_ms(device: torch.device, repeats: int = 20, with_grad_stats: bool = False,
              placed: bool = True, **flags) -> float:
    """Mean wall time of one a2c_update on a batch of 128 random Pong frames (update_setup);
    flags: Config fields; with_grad_stats: the second backward pass."""
    cfg, net, optimizer, states, actions, targets = update_setup(device, placed, **flags)
    times = []
    for k in range(repeats + 3):  # 3 warm-up updates
        start = time.perf_counter()
        t.a2c_update(net, optimizer, states, actions, targets, cfg, with_grad_stats)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if k >= 3:
            times.append(time.perf_counter() - start)
    return 1000 * sum(times) / len(times)


def heads_ms(device: torch.device, n: int, head: str, repeats: int = 30) -> tuple[float, float]:
    """Mean wall time of one forward of `n` random Pong frames with both heads and with `head`
    alone (the other left out, as acting and the last states ask), interleaved call by call so
    that the machine's drift falls on both alike."""
    net = t.place(t.AtariA2C((4, 84, 84), 6), device)
    x = torch.randint(0, 256, (n, 4, 84, 84), dtype=torch.uint8, device=device)
    alone = {"policy": {"value": False}, "value": {"policy": False}}[head]
    times = [0.0, 0.0]
    with torch.inference_mode():
        for k in range(repeats + 3):  # 3 warm-up rounds
            for i, flags in enumerate(({}, alone)):
                start = time.perf_counter()
                net(x, **flags)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                if k >= 3:
                    times[i] += time.perf_counter() - start
    return 1000 * times[0] / repeats, 1000 * times[1] / repeats


def env_alone(envs: int) -> float:
    env = env_fps(envs)
    print(f"limits: the vector env alone {env:,.0f} frames/s ({envs} envs, random actions)")
    return env


def limits(rows: dict, device: torch.device, envs: int) -> None:
    """The serial limit (env alone + network alone per 128 frames) of the default and of each of
    compile, bf16 and bf16-compile that trained, beside its training fps."""
    per_frame_env = 1 / env_alone(envs)
    print(f"{'variant':12} {'net ms/128':>10} {'limit fps':>9} {'trained':>8} {'of limit':>8}")
    for variant in [v for v in ("vector", "compile", "bf16", "bf16-compile") if v == "vector" or v in rows]:
        ms = network_ms(variant, device, envs)
        if isinstance(ms, str):
            print(f"{variant:12} refused: {ms}")
            continue
        limit = 128 / (128 * per_frame_env + ms / 1000)
        row = rows.get(variant)
        trained = f"{row[0]:8.0f} {row[0] / limit:8.0%}" if isinstance(row, tuple) else f"{'-':>8} {'-':>8}"
        print(f"{variant:12} {ms:10.1f} {limit:9.0f} {trained}")


def timings(dev: torch.device, envs: int) -> None:
    """One update (one pass, two, bf16, the default conv layout) and one forward of each batch size."""
    one, two, plain = update_ms(dev), update_ms(dev, with_grad_stats=True), update_ms(dev, placed=False)
    try:
        t.check_bf16(dev)
        bf16 = f", {update_ms(dev, bf16=True):.1f} ms one pass under bf16"
    except t.UsageError:
        bf16 = ""
    print(f"one update on {dev.type}: {one:.1f} ms one backward pass, {two:.1f} ms two{bf16}; "
          f"{plain:.1f} ms one pass with the conv weights in the default layout")
    act_both, act_one = heads_ms(dev, envs, "policy")
    last_both, last_one = heads_ms(dev, 128, "value")
    print(f"one forward on {dev.type}: {envs} states (acting) {act_both:.1f} ms both heads, "
          f"{act_one:.1f} ms the policy head alone; 128 states (last states) {last_both:.1f} ms both "
          f"heads, {last_one:.1f} ms the value head alone")


# --- Issue 42's levers, measured before any goes into the script ---------------------------------


def env_scaling(envs: int) -> None:
    """The vector env alone on a quarter, a half and all of this process's cores (a thread each):
    where its scaling ends. Three envs built, each some seconds, so not more."""
    counts = sorted({t.cores() // 4, t.cores() // 2, t.cores()} - {0})
    rates = ", ".join(f"{n}: {env_fps(envs, steps=100, threads=n):,.0f}" for n in counts)
    print(f"the vector env alone by threads ({envs} envs, frames/s): {rates}", flush=True)


def update_profile(device: torch.device, repeats: int = 10) -> None:
    """What one eager update (one backward pass) costs the host: torch's ops, and on a GPU its kernel
    launches, host-device copies and synchronizations, with the host's and the device's busy time."""
    from torch.profiler import ProfilerActivity, profile

    cfg, net, optimizer, *batch = update_setup(device)
    for _ in range(3):  # warm-up
        t.a2c_update(net, optimizer, *batch, cfg, with_grad_stats=False)
    cuda = device.type == "cuda"
    with profile(activities=[ProfilerActivity.CPU] + [ProfilerActivity.CUDA] * cuda) as prof:
        for _ in range(repeats):
            t.a2c_update(net, optimizer, *batch, cfg, with_grad_stats=False)
        if cuda:
            torch.cuda.synchronize()
    events = prof.key_averages()

    def count(*names: str) -> float:
        return sum(e.count for e in events if e.key in names) / repeats

    aten = [e for e in events if e.key.startswith("aten::")]
    host = sum(e.self_cpu_time_total for e in aten) / repeats / 1000
    said = (f"one update on {device.type}, profiled: {sum(e.count for e in aten) / repeats:.0f} aten calls, "
            f"{host:.1f} ms of their host time")
    if cuda:
        busy = sum(e.self_device_time_total for e in aten) / repeats / 1000
        launches = count("cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel", "cuLaunchKernelEx")
        said += (f"; {launches:.0f} kernel launches, {count('cudaMemcpyAsync', 'cudaMemcpy'):.0f} copies, "
                 f"{count('cudaStreamSynchronize', 'cudaDeviceSynchronize', 'cudaEventSynchronize'):.0f} "
                 f"syncs, {busy:.2f} ms of the aten calls' device time"
                 f"{'' if launches else ' (the profiler saw no CUDA activity: no CUPTI?)'}")
    top = sorted(aten, key=lambda e: -e.self_cpu_time_total)[:5]
    print(said + "; most host time: " + ", ".join(
        f"{e.key[6:]} {e.self_cpu_time_total / repeats / 1000:.2f} ms" for e in top), flush=True)


def captured(body: Callable[[], Any], before: Callable[[], Any] = lambda: None) -> tuple[Any, Any]:
    """`body` captured in one CUDA graph after three warm-up calls on a side stream, as CUDA graphs
    ask, and the capture on that stream too, so that libraries' per-stream handles are made in the
    warm-up, not mid-capture (pytorch/pytorch#187745); `before` runs ahead of each call and of the
    capture, not in it. The graph, and body's output (tensors that each replay writes again)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            before()
            body()
    torch.cuda.current_stream().wait_stream(side)
    before()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=side):
        out = body()
    return graph, out


def graphed_update(net: t.AtariA2C, optimizer: torch.optim.Optimizer, cfg: t.Config,
                   *batch: torch.Tensor) -> Callable[[], None]:
    """One-pass a2c_update with its forward, backward and gradient clipping captured in one CUDA
    graph (a replay writes the same gradient tensors again); the finite check and Adam then run as
    the script runs them. The batch's tensors are the graph's inputs: copy a new batch into them."""
    def body() -> torch.Tensor:
        losses = t.a2c_losses(net, *batch, cfg.entropy_beta, cfg.baseline)
        (losses.policy + (losses.entropy + losses.value)).backward()
        return torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clip_grad)

    graph, norm = captured(body, before=lambda: net.zero_grad(set_to_none=True))

    def step() -> None:
        graph.replay()
        if not torch.isfinite(norm):
            raise t.NonFiniteError("the loss or its gradient is not finite (NaN or inf)")
        optimizer.step()

    return step


def graphed_acting(net: t.AtariA2C, envs: int) -> Callable[[Any], Any]:
    """policy_sampler with the policy head's forward captured in one CUDA graph; sampling stays eager."""
    frames = torch.zeros(envs, 4, 84, 84, dtype=torch.uint8, device="cuda")

    @torch.no_grad()
    def body() -> torch.Tensor:
        return net(frames, value=False)[0]

    graph, logits = captured(body)

    def act(obs: Any) -> Any:
        frames.copy_(torch.as_tensor(obs))
        graph.replay()
        return torch.multinomial(torch.softmax(logits, dim=1), 1)[:, 0].cpu().numpy()

    return act


def cuda_graphs(envs: int, updates: int = 20) -> None:
    """The lever of CUDA graphs: one update and one acting step eager and replayed, interleaved, from
    the same weights and batch; whether the weights after `updates` updates, and the actions, agree."""
    dev = torch.device("cuda")
    cfg, eager, eager_opt, *batch = update_setup(dev)
    graphed = copy.deepcopy(eager)
    graphed_opt = torch.optim.Adam(graphed.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    obs = torch.randint(0, 256, (envs, 4, 84, 84), dtype=torch.uint8).numpy()
    sample, acting = t.policy_sampler(eager, dev), graphed_acting(graphed, envs)
    pairs = {"update": (lambda: t.a2c_update(eager, eager_opt, *batch, cfg, False),
                        graphed_update(graphed, graphed_opt, cfg, *batch)),
             "acting": (lambda: sample(obs), lambda: acting(obs))}
    ms, out = {}, {}
    for what, fns in pairs.items():  # the updates first, so that acting runs on the updated weights
        seconds = [0.0, 0.0]
        for k in range(updates):
            for i, fn in enumerate(fns):
                torch.cuda.manual_seed(k)  # the same random numbers for both samplers
                torch.cuda.synchronize()
                start = time.perf_counter()
                out.setdefault((what, i), []).append(fn())
                torch.cuda.synchronize()
                seconds[i] += time.perf_counter() - start if k >= 3 else 0.0
        ms[what] = [f"{1000 * s / (updates - 3):.2f} ms" for s in seconds]
    params = list(zip(eager.parameters(), graphed.parameters(), strict=True))
    diff = max((a - b).abs().max().item() for a, b in params)
    weights = "the same" if all(torch.equal(a, b) for a, b in params) else f"differ by up to {diff:.2e}"
    agree = all((a == b).all() for a, b in zip(out["acting", 0], out["acting", 1], strict=True))
    print(f"CUDA graphs: one update {ms['update'][0]} eager, {ms['update'][1]} replayed, the weights "
          f"after {updates} updates {weights}; one acting step ({envs} states from host frames) "
          f"{ms['acting'][0]} eager, {ms['acting'][1]} replayed, the actions "
          f"{'the same' if agree else 'not the same'}", flush=True)


def levers(device: torch.device, envs: int) -> None:
    """Issue 42's levers, each one line, measured in one call: where the env stops scaling, what an
    update costs the host, and CUDA graphs. A lever this torch or driver refuses is said, not raised:
    the bench goes on."""
    env_scaling(envs)
    def graphs() -> None:
        if device.type != "cuda":
            print("CUDA graphs: on a GPU only")
        else:
            cuda_graphs(envs)

    for name, lever in (("the update profiled", lambda: update_profile(device)), ("CUDA graphs", graphs)):
        try:
            lever()
        except Exception as e:
            why = (str(e).strip().splitlines() or [""])[0]
            print(f"{name}: failed: {type(e).__name__}: {why}", flush=True)


def median_round(results: list) -> tuple[float, Phases] | str:
    """The round of median frames per second (the upper of two middles), or why the variant did not run."""
    refused = [r for r in results if isinstance(r, str)]
    return refused[0] if refused else sorted(results, key=lambda r: r[0])[len(results) // 2]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=12_800)
    p.add_argument("--seconds", type=float, help="each row trains this long, its start included")
    p.add_argument("--envs", type=int, default=50)
    p.add_argument("--cuda", action="store_true")
    p.add_argument("--variants", nargs="*", choices=list(VARIANTS), default=list(VARIANTS),
                   help="training rows to run (none: only the update timings)")
    p.add_argument("--rows-only", action="store_true", help="the rows and the env alone, not the network")
    p.add_argument("--rounds", type=int, default=1, help="times each variant trains, in alternating order")
    p.add_argument("--levers", action="store_true", help="first issue 42's levers: the env alone by threads, "
                   "one update profiled, CUDA graphs on a GPU (with --variants and no name: only these)")
    args = p.parse_args()
    device = f"{cpu_name()}" + (f", {torch.cuda.get_device_name()}" if args.cuda else "")
    print(f"machine: {t.cores()} of {os.cpu_count()} cores, {device}, torch {torch.__version__}, {args.envs} "
          f"envs, {f'{args.seconds:g} s' if args.seconds else f'{args.frames} frames'} per variant")
    dev = torch.device("cuda" if args.cuda else "cpu")
    if args.levers:
        levers(dev, args.envs)
        if not args.variants:
            return
    rounds: dict[str, list] = {variant: [] for variant in args.variants}
    with tempfile.TemporaryDirectory() as runs:
        for k in range(args.rounds):
            for variant in args.variants[::-1] if k % 2 else args.variants:
                rounds[variant].append(run(variant, args.frames, args.envs, args.cuda, runs, args.seconds))
    rows = {variant: median_round(results) for variant, results in rounds.items()}
    print(f"{'variant':12} {'fps':>8} {'env':>6} {'infer':>6} {'update':>6} {'env fps':>8}")
    for variant, row in rows.items():
        if isinstance(row, str):
            print(f"{variant:12} refused: {row}")
            continue
        fps, tm = row
        total = tm.total - tm.compile
        env = total - tm.inference - tm.update
        compiled = f"  (compiled in {tm.compile:.1f} s first)" if tm.compile else ""
        print(f"{variant:12} {fps:8.0f} {env / total:6.0%} {tm.inference / total:6.0%} "
              f"{tm.update / total:6.0%} {tm.frames / env:8.0f}{compiled}")
        if args.rounds > 1:
            print(f"{'':12} rounds: {', '.join(f'{r[0]:.0f}' for r in rounds[variant])}")
    if args.rows_only:
        env_alone(args.envs)
    else:
        limits(rows, dev, args.envs)
        timings(dev, args.envs)

    def ratio(a: str, b: str) -> None:
        if isinstance(rows.get(a), tuple) and isinstance(rows.get(b), tuple):
            print(f"ratio {a}/{b}: {rows[a][0] / rows[b][0]:.2f}")

    for a, b in [("vector", "two-pass"), ("bf16", "two-pass"), ("compile", "vector"),
                 ("bf16-compile", "vector"), ("async", "vector"), ("bf16-async", "vector"),
                 ("vector", "host-frames"), ("env1+torch1", "vector"), ("env1", "vector"),
                 ("torch1", "vector"), ("env-spare1", "vector"), ("vector", "ptan")]:
        ratio(a, b)


if __name__ == "__main__":
    main()
