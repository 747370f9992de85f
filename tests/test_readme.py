"""The README says what the command does: every option of `grade` in its options table, the
Python the project needs where a new user starts, and its first two commands as they were."""

from __future__ import annotations

import re

import click

from conftest import ROOT
from grader.cli import run

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    return README[start:README.index("\n## ", start + 1)]


def test_every_option_of_grade_is_in_the_readmes_options_table():
    table = [line for line in _section("Grading a file and a class").splitlines() if line.startswith("| `-")]
    documented = {option for line in table for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", line.split(" | ")[0])}
    forms = [(*param.opts, *param.secondary_opts) for param in run.params if isinstance(param, click.Option)]
    assert not [names for names in forms if not set(names) & documented]  # each under one of its names (-o, -q)
    assert documented <= {name for names in forms for name in names}


def test_start_here_says_the_python_it_needs_and_keeps_its_two_commands():
    start_here = _section("Start here")
    needed = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert f"Python {needed} or newer" in start_here
    commands = [line.strip() for line in start_here.splitlines() if line.startswith("    ")]
    assert commands[:2] == ["pip install . && grade examples/class", "pip install '.[test]' && pytest"]
