"""The README reads in a newcomer's order and stays short enough to be read."""

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text()
ORDER = ["Train it", "What you will see", "Watch an agent", "Command line", "TensorBoard", "Resume",
         "Reference"]


def words(text: str) -> int:
    return len(re.findall(r"\S+", re.sub(r"<!--.*?-->", "", text, flags=re.S)))  # not the comments


def test_sections_come_in_a_newcomers_order():
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    assert headings == ORDER


def test_the_part_before_the_reference_is_short_and_the_whole_too():
    before, _ = README.split("\n## Reference\n")
    assert words(before) <= 1200
    assert words(README) <= 2800  # the flag table and the runs are reference, below the first part


def test_the_first_command_works_on_any_machine_and_ci_runs_the_readmes_test_command():
    first = re.search(r"```bash\n(.*?)```", README, flags=re.S).group(1)
    assert "make train" in first and "--cuda" not in first
    assert "make test" in README and "make test" in (ROOT / ".ci" / "run").read_text()
