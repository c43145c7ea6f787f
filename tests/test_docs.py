"""What the README and the help say, checked against the program, its data and its files: the one
documentation module, marked docs (`make check` leaves it out; `make test`, which CI runs, does not).
Everything else in tests/ tests what the program does."""

import re
import shlex

import pytest
import seeds
import train_flags
from conftest import ROOT
from PIL import Image
from test_shipped import AGENTS, DOCS, FULL, STICKY, record, shipped

import train_a2c_pong as t

pytestmark = pytest.mark.docs
README = (ROOT / "README.md").read_text()
ROWS = seeds.read_table()
ORDER = ["Train it", "What you will see", "Watch an agent", "Command line", "TensorBoard", "Resume",
         "Reference"]
MACHINE = re.compile(r"\b(Zen \d|Xeon|EPYCs?|H100|H200)\b")


def words(text: str) -> int:
    return len(re.findall(r"\S+", re.sub(r"<!--.*?-->", "", text, flags=re.S)))  # not the comments


def section(title: str) -> str:
    """The text of the README's section `### title`, on one line."""
    return README.split(f"\n### {title}\n")[1].split("\n### ")[0].replace("\n", " ")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_sections_come_in_a_newcomers_order():
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    assert headings == ORDER


def test_the_part_before_the_reference_is_short_and_the_whole_too():
    before, _ = README.split("\n## Reference\n")
    assert words(before) <= 1200
    # the flag table and the runs are reference, below the first part; the seed table is data, a
    # row per run started (tools/seeds.py writes it), and counts apart
    table = seeds.markdown(ROWS)
    assert table in README and words(README.replace(table, "")) <= 2550


def test_the_first_command_works_on_any_machine_and_ci_runs_the_readmes_test_command():
    first = re.search(r"```bash\n(.*?)```", README, flags=re.S).group(1)
    assert "make train" in first and "--cuda" not in first
    assert "make test" in README and "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("doc", ["README.md", "docs/reference.md"])
def test_every_link_resolves(doc):
    """A relative link names a file of the repository, an anchor a heading of the file it names."""
    path = ROOT / doc
    links = re.findall(r"\]\(([^)\s]+)\)", path.read_text())
    assert links
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        file, _, anchor = link.partition("#")
        target = (path.parent / file).resolve() if file else path
        assert target.exists(), f"{doc}: {link}"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", target.read_text(), flags=re.M)
            assert anchor in {slug(h) for h in headings}, f"{doc}: {link}"


def script_commands() -> list[str]:
    """Every command of the script that the README gives, in its code blocks and tables."""
    found = re.findall(r"python train_a2c_pong\.py([^`#\n|]*)", README)
    assert len(found) >= 15
    return [args.strip() for args in found]


@pytest.mark.parametrize("args", script_commands())
def test_every_command_the_readme_gives_is_one_the_script_takes(args):
    """Parsed as the script parses them (the flags, their values, the mode's options), with a run
    of yours for runs/<run> and a seed for S; a model file the README names is in the repository."""
    argv = shlex.split(args.replace("<run>", "r").replace("--seed S", "--seed 7"))
    cfg, given = t.parse_args(argv)
    t.check_modes(given)
    if cfg.play is not None and not cfg.play.startswith("runs/"):
        assert (ROOT / cfg.play).is_file(), cfg.play


def test_every_figure_of_speed_or_time_names_its_machine():
    """A paragraph that gives frames per second or hours of training says on what machine."""
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    figures = re.compile(r"\d[\d,.]* (?:frames/s|frames per second)|\d+ h \d+ min|\d+ min \d+ s")
    checked = 0
    for paragraph in re.split(r"\n\s*\n", prose):
        if figures.search(paragraph):
            checked += 1
            assert MACHINE.search(paragraph), paragraph[:200]
    assert checked >= 5


def test_help_says_these_flags_in_these_words(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = t.build_parser().format_help()
    sticky = r"--sticky P .*?\(default:\s+0\.0\s+to\s+train;\s+--play:\s+the\s+model's\)"
    assert re.search(sticky, text, flags=re.S)
    seed = r"--seed SEED\s+random seed of numpy and torch; env i takes seed \+ i, and in a\s+run's k-th\s+" \
           r"resumed segment seed \+ k\*envs \+ i \(default: 42\)"  # as Run seeds them (test_checkpoints.py)
    assert re.search(seed, text), text
    assert ("training (also with --resume, but for --name and --runs-dir; the hyperparameters must then "
            "agree with the checkpoint's, the others may change):") in text


def test_the_seed_42_full_run_is_the_readmes_full_run():
    (row,) = [r for r in ROWS if r.seed == 42 and r.numerics == "float32"]
    assert row.csv == "docs/reward_100.csv" and row.state == "solved"
    assert f"at commit `{row.commit}`" in section("The full run")


def test_the_readme_says_the_table_and_its_sentence_as_the_tool_makes_them():
    for precision in seeds.precisions(ROWS):  # one sentence each, its flavours pooled
        assert seeds.summary(ROWS, precision, precision=True) in README.replace("\n", " ")
    assert seeds.markdown(ROWS) in README
    assert "docs/seeds.png" in README and seeds.PLOT.is_file()


def test_the_readme_says_what_make_train_chose_on_the_seed_table_and_why():
    why = train_flags.not_proven(seeds.read_table())
    readme = " ".join((ROOT / "README.md").read_text().split())
    if why is None:
        assert "`make train` adds `--bf16`" in readme
    else:
        assert "`make train` runs the notebook's float32" in readme
        assert why in readme, why
    lag = train_flags.not_proven(seeds.read_table(), train_flags.LAG)  # on a GPU: --async-envs
    if lag is None:
        assert "On a GPU `make train` runs `--cuda --async-envs`" in readme
    else:
        assert f"On a GPU `make train` runs `--cuda`, adding `--async-envs` when [the rule](#over-seeds) " \
               f"proves it: {lag}." in readme, lag


@AGENTS
def test_the_readmes_run_figures_are_the_csvs(agent):
    rows, saved, text = record(agent), shipped(agent), section(agent.section)
    frames, wall_s = int(rows[-1]["frames"]), float(rows[-1]["wall_s"])
    assert ("Solved in" in text) == agent.solved
    said = re.search(r"(?:Solved in|last game ended at) ([\d,]+) frames \(([\d,]+) games\) after "
                     r"(\d+) h (\d+) min of training, ([\d,]+) frames per second, "
                     r"at commit `([0-9a-f]{7,40})`", text)
    assert said, f"the README's sentence on {agent.section} is missing"
    assert int(said[1].replace(",", "")) == frames and int(said[2].replace(",", "")) == len(rows)
    assert int(said[3]) * 60 + int(said[4]) == round(wall_s / 60)
    assert int(said[5].replace(",", "")) == round(frames / wall_s)
    assert saved["commit"].startswith(said[6])
    milestones = re.findall(r"(?<![\w.])([+-]?\d+) at (\d+\.\d)M\b", text)
    assert len(milestones) >= 5
    for mean, at in milestones:
        first = next(int(r["frames"]) for r in rows if float(r["reward_100"]) >= int(mean))
        assert f"{first / 1e6:.1f}" == at, (mean, at)


def test_the_readmes_score_table_is_the_play_logs():
    logs = (DOCS / "reference.md").read_text()
    rows = re.findall(r"^\| (sticky 0\.25|none) \| (sampled|greedy) \| (0\.25|0) \| "
                      r"`(python train_a2c_pong.py --play docs/(pong_a2c(?:_sticky)?\.pt)[^`]*)` \| "
                      r"([+-][\d.]+) \| (\d+) of 20 \|$", README, flags=re.M)
    field_first = [(a, p) for p in ("0.25", "0") for a in ("sampled", "greedy")]
    assert [(r[0], r[4], *r[1:3]) for r in rows] == [
        (trained, agent.model.name, a, p) for trained, agent in (("sticky 0.25", STICKY), ("none", FULL))
        for a, p in field_first]
    for _, actions, sticky, command, _, mean, wins in rows:
        log = re.search(re.escape(f"$ {command}") + r"\n(.*?)```", logs, flags=re.S)
        assert log, f"no output of {command} in docs/reference.md"
        how = f"playing on cpu with 1 torch thread: {actions} actions, sticky actions {sticky} ("
        assert log[1].startswith(how)
        assert f"mean score over 20 games: {mean}, won {wins} of 20 (sticky actions {sticky}, " in log[1]
        scores = [int(x) for x in re.findall(r"^game \d+: score ([+-]\d+) \(\d+-\d+\)$", log[1], flags=re.M)]
        assert len(scores) == 20 and f"{sum(scores) / 20:+.2f}" == mean
        assert sum(x > 0 for x in scores) == int(wins)


def test_the_gif_at_the_top_of_the_readme_is_a_game_of_over_a_minute():
    gif = DOCS / "pong.gif"
    assert "](docs/pong.gif)" in README.split("\n## ")[0]  # shown above the first section
    assert gif.stat().st_size < 3.2e6
    with Image.open(gif) as im:
        assert im.size == (160, 210) and im.n_frames > 15 * 60  # at least a minute of play
    for agent in (FULL, STICKY):
        png = agent.record.with_suffix(".png")
        assert f"docs/{png.name}" in README and png.is_file()

