"""The README and docs/ cannot drift from the code: links resolve, the sample output is printed."""

from __future__ import annotations

import re

from tests.support import ROOT
from tests.test_cli import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_link_to_a_file_resolves():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_every_document_is_listed_in_the_readme():
    listed = set(re.findall(r"\(docs/([\w-]+\.md)\)", README.partition("## Documentation")[2]))
    assert listed == {page.name for page in (ROOT / "docs").glob("*.md")}


def test_the_quick_starts_output_is_what_benchtest_prints(tmp_path):
    block = README.partition("The run above prints (abridged):")[2].partition("```\n")[2]
    shown = [line for line in block.partition("```")[0].splitlines() if line != "…"]
    done = cli(cwd=tmp_path)
    assert done.returncode == 0
    printed = iter(done.stdout.splitlines())
    for line in shown:  # in order, each a whole line of the real output
        assert line in printed, line


def test_the_api_example_is_the_bundled_samples_first_page():
    example = README.partition("## The API it reads")[2].partition("```json\n")[2]
    first = example.partition("```")[0]
    sample = (ROOT / "benchtest" / "sample" / "1.json").read_text(encoding="utf-8")
    for value in re.findall(r'"(?:Date|Ledger|Amount|Company)": "([^"]*)"', first):
        assert f'"{value}"' in sample, value
